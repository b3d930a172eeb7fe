import pytest

from groklab.registry import Registry, RegistryError


def test_register_alias_and_lookup():
    reg: Registry[int] = Registry("thing")
    reg.add("alpha", 1, aliases=("a",))
    assert reg.get("a") == 1 and reg.canonical("a") == "alpha" and reg.names() == ["alpha"]


def test_duplicate_names_and_aliases_are_refused():
    reg: Registry[int] = Registry("thing")
    reg.add("alpha", 1, aliases=("a",))
    with pytest.raises(RegistryError, match="registered twice"):
        reg.add("a", 2)


def test_unknown_name_suggests_and_lists():
    reg: Registry[int] = Registry("task")
    reg.add("modular_div", 1)
    expected = r"Unknown task 'modular_dvi'. Did you mean: modular_div\? Available: modular_div"
    with pytest.raises(RegistryError, match=expected):
        reg.get("modular_dvi")
