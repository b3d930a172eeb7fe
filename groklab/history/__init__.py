"""Run histories: append-only JSONL stream, tolerant reader, columnar export."""

from groklab.history.export import write_training_history
from groklab.history.reader import History, HistoryError, load_history
from groklab.history.schema import SCHEMA_VERSION, make_record
from groklab.history.writer import HistoryWriter, keep_records_through

__all__ = [
    "SCHEMA_VERSION", "History", "HistoryError", "HistoryWriter",
    "keep_records_through", "load_history", "make_record", "write_training_history",
]
