"""lmbook.config: modes and (quick, full) settings."""

import pytest

from lmbook.config import Settings, get_mode


def test_settings_pick_the_mode_column():
    s = Settings(mode="quick", steps=(10, 1000), lr=(1e-3, 3e-4))
    assert (s.steps, s.lr) == (10, 1e-3)
    assert Settings(mode="full", steps=(10, 1000)).steps == 1000
    assert s.as_dict() == {"steps": 10, "lr": 1e-3}
    assert "quick*" in repr(s) and "steps" in repr(s)


def test_settings_errors_name_the_problem():
    with pytest.raises(TypeError, match="setting 'steps' must be a \\(quick, full\\) tuple"):
        Settings(mode="quick", steps=10)
    with pytest.raises(ValueError, match="mode must be 'quick' or 'full', got 'fast'"):
        Settings(mode="fast")
    with pytest.raises(AttributeError, match="no setting named 'step'"):
        _ = Settings(mode="quick", steps=(1, 2)).step


def test_mode_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("LMBOOK_MODE", "FULL")
    assert get_mode() == "full"
    assert Settings(x=(1, 2)).x == 2
    monkeypatch.setenv("LMBOOK_MODE", "slow")
    with pytest.raises(ValueError, match="LMBOOK_MODE must be 'quick' or 'full', got 'slow'"):
        get_mode()


def test_mode_defaults_to_quick_on_a_cpu(monkeypatch):
    monkeypatch.delenv("LMBOOK_MODE", raising=False)
    monkeypatch.setattr("lmbook.config.accelerator", lambda: None)
    assert get_mode() == "quick"
    monkeypatch.setattr("lmbook.config.accelerator", lambda: "gpu")
    assert get_mode() == "full"
