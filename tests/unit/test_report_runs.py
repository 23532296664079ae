"""Kept report runs (output/report_runs.py): names, the latest link, retention."""
import datetime
import os

import pytest

from ansible.module_utils.compose_doctor.output import report_runs as rr

T = datetime.datetime(2026, 12, 5, 14, 1, 2, tzinfo=datetime.timezone.utc)


def test_run_names_are_utc_stamps_and_never_clash(tmp_path):
    names = [rr.new_run(str(tmp_path), T) for _ in range(11)]
    assert names[:3] == ["20261205T140102Z", "20261205T140102Z-2", "20261205T140102Z-3"]
    assert rr.runs(str(tmp_path)) == names          # -10 sorts after -9: by number, not text


def test_latest_and_flat_links_replace_what_was_there(tmp_path):
    (tmp_path / "audit.json").write_text("old")
    run = rr.new_run(str(tmp_path), T)
    (tmp_path / run / "audit.json").write_text("new")
    rr.point_latest(str(tmp_path), run, ["audit.json"])
    assert (tmp_path / "audit.json").read_text() == "new" and rr.latest_run(str(tmp_path)) == run
    assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]


def test_a_real_latest_directory_is_not_ours_to_replace(tmp_path):
    (tmp_path / "latest").mkdir()
    with pytest.raises(ValueError):
        rr.point_latest(str(tmp_path), rr.new_run(str(tmp_path), T), [])


def test_prune_keeps_the_newest_and_never_latest(tmp_path):
    names = [rr.new_run(str(tmp_path), T + datetime.timedelta(minutes=i)) for i in range(5)]
    rr.point_latest(str(tmp_path), names[0], [])   # latest points at the oldest (a rollback, say)
    assert rr.prune(str(tmp_path), 2) == names[1:3]
    assert rr.runs(str(tmp_path)) == [names[0]] + names[3:]
    assert rr.prune(str(tmp_path), 0) == []
    (tmp_path / "notes").mkdir()                    # not a run: never touched
    rr.prune(str(tmp_path), 1)
    assert (tmp_path / "notes").is_dir()
