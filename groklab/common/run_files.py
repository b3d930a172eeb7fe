"""The names of the files in a run folder, in one place (docs/history.md describes what each holds)."""

CONFIG_FILE = "config.yaml"  # the resolved config, written before training
SOURCE_FILE = "source.json"  # an imported log's description, in place of config.yaml
HISTORY_FILE = "history.jsonl"  # one record per evaluation, appended
STATUS_FILE = "status.json"  # state, step, ETA; rewritten as training goes
CHECKPOINTS_DIR = "checkpoints"
ANALYSIS_FILE = "analysis.json"  # written by analysis
TRAINING_HISTORY_FILE = "training_history.json"  # the history as columns, for other tools
FIGURES_DIR = "figures"
LOCK_FILE = "owner.lock"  # held (flock) by the one process training in the folder; names it
