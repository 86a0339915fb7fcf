"""One chapter opened the way the README tells a reader to: ``jupyter lab`` in the venv.

Run by ``make lab`` (part of ``make test``). The test starts the venv's ``jupyter lab
--no-browser notebooks/rd_one_page.ipynb`` in a temporary directory that holds a copy of the
chapter, on a loopback port, with the environment of a reader's shell (``INFOCOMPRESS_QUIET``
and ``CI`` removed, Jupyter's configuration and runtime folders private to the test). Then it
plays the reader in headless Chromium, with the network switched off:

* the notebook opens in JupyterLab and its kernel starts;
* ``Edit > Clear Outputs of All Cells``, then the toolbar's run button, cell after cell, down to
  the third cell that prints; every text the cells print must equal the stored output (after
  the same sanitizing as ``make nbval``: addresses and durations);
* a new cell that loops through :func:`infocompress.progress.progress_bar` shows a bar, as the
  README promises for interactive runs.

The server is shut down through its REST API; any process it left (found by a marker in the
environment that the server and its kernels inherit) fails the test after being killed. A
missing ``jupyter-lab`` always fails: JupyterLab is pinned in requirements.txt, so its absence
is a broken environment. A missing browser is skipped unless ``INFOCOMPRESS_REQUIRE_RENDER=1``
(set by ``make lab``) turns it into a failure, as in ``test_book_render.py``.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHAPTER = "rd_one_page.ipynb"
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
SHOTS = ROOT / "_build" / "screenshots"
REQUIRE = os.environ.get("INFOCOMPRESS_REQUIRE_RENDER", "") == "1"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# the venv's own launcher, as in the README (sys.executable is not resolved: it is the venv's)
JUPYTER = pathlib.Path(sys.executable).parent / "jupyter"
N_PRINTING = 3  # run the chapter down to its third cell with printed output

SERVER_START_S = 90  # until /api/status answers
NOTEBOOK_OPEN_S = 120  # until the notebook is shown with an idle kernel
RUN_S = 240  # until the chosen cells have run
SHUTDOWN_S = 30  # until the server and its kernel are gone
MARKER = "INFOCOMPRESS_LAB_TEST"

STDOUT = "application/vnd.jupyter.stdout"
STDERR = "application/vnd.jupyter.stderr"


def _unavailable(msg):
    if REQUIRE:
        pytest.fail(msg)
    pytest.skip(msg)


def _stored_cells():
    """Cells of the chapter down to the N_PRINTING-th code cell with stdout: (index, stdout)."""
    nb = json.loads((ROOT / "notebooks" / CHAPTER).read_text(encoding="utf-8"))
    chosen, printing = [], 0
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        text = "".join(
            "".join(out["text"]) for out in cell.get("outputs", [])
            if out["output_type"] == "stream" and out["name"] == "stdout"
        )
        chosen.append((index, text))
        printing += bool(text)
        if printing == N_PRINTING:
            return nb, chosen
    raise AssertionError(f"{CHAPTER} has fewer than {N_PRINTING} code cells that print")


def _sanitizer():
    """The regex replacements of tests/nbval_sanitize.cfg (what make nbval masks)."""
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(SANITIZE, encoding="utf-8")
    rules = [(re.compile(cfg[s]["regex"]), cfg[s]["replace"]) for s in cfg.sections()]

    def sanitize(text):
        for regex, replace in rules:
            text = regex.sub(replace, text)
        return text

    return sanitize


# ---------------------------------------------------------------- the server and its processes


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _marked_pids(marker):
    """Live processes whose environment carries ``MARKER=marker`` (the server and its kernels)."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for proc in pathlib.Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if needle not in (proc / "environ").read_bytes().split(b"\0"):
                continue
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if state != "Z":
            found.append(int(proc.name))
    return found


def _wait_until(predicate, timeout, step=0.5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def _get(url, token, timeout=5.0, method="GET"):
    req = urllib.request.Request(url, method=method,
                                 headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status, resp.read()


class LabServer:
    """``jupyter lab`` started as a reader would, plus what the test needs to stop it."""

    def __init__(self, workdir):
        self.workdir = pathlib.Path(workdir)
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.marker = secrets.token_hex(8)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.workdir / "jupyter-lab.log"
        self.proc = None
        self.strays = []

    def start(self):
        env = {k: v for k, v in os.environ.items() if k not in ("INFOCOMPRESS_QUIET", "CI")}
        private = self.workdir / "jupyter"
        env.update({
            "JUPYTER_TOKEN": self.token,
            "JUPYTER_CONFIG_DIR": str(private / "config"),
            "JUPYTER_RUNTIME_DIR": str(private / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(private / "lab-settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(private / "lab-workspaces"),
            "IPYTHONDIR": str(private / "ipython"),
            MARKER: self.marker,
        })
        cmd = [str(JUPYTER), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
               "--ServerApp.port_retries=0", f"notebooks/{CHAPTER}"]
        if os.geteuid() == 0:  # CI runs as root; a reader does not need this flag
            cmd.insert(2, "--allow-root")
        self._log = log = open(self.log_path, "wb")  # closed in stop()
        try:
            self.proc = subprocess.Popen(cmd, cwd=self.workdir, env=env, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        except FileNotFoundError:
            pytest.fail(f"{JUPYTER} does not exist: the venv has no Jupyter launcher")
        if not _wait_until(self._serving, SERVER_START_S):
            pytest.fail(f"`jupyter lab` did not serve within {SERVER_START_S} s"
                        f"{self._exit_note()}:\n{self.log_tail()}")

    def _serving(self):
        if self.proc.poll() is not None:
            pytest.fail(f"`jupyter lab` exited with code {self.proc.returncode} before serving "
                        f"(is JupyterLab installed from requirements.txt?):\n{self.log_tail()}")
        try:
            return _get(f"{self.url}/api/status", self.token, timeout=2.0)[0] == 200
        except (urllib.error.URLError, OSError):
            return False

    def _exit_note(self):
        return "" if self.proc.poll() is None else f" (exit code {self.proc.returncode})"

    def log_tail(self, n=30):
        if not self.log_path.exists():
            return "(no log)"
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])

    def stop(self):
        """Shut down through the REST API; kill whatever is left; remember it in ``strays``."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(urllib.error.URLError, OSError):
                _get(f"{self.url}/api/shutdown", self.token, method="POST")
        gone = _wait_until(lambda: self.proc.poll() is not None and not _marked_pids(self.marker),
                           SHUTDOWN_S)
        if not gone:
            self.strays = _marked_pids(self.marker)
            if self.proc.poll() is None:
                self.strays = sorted(set(self.strays) | {self.proc.pid})
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
            for pid in self.strays:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self._log.close()


# ---------------------------------------------------------------- the browser


def _browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed")
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        _unavailable("chromium / chromedriver missing (apt-get install chromium chromium-driver)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1280,900", f"--user-data-dir={profile}",
        # network off: every host but the loopback server resolves to nothing
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
    ):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    return driver, profile


# The state of the notebook as JupyterLab shows it: one entry per cell, in order.
_CELLS = """
const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
if (!panel) return null;
const cells = [...panel.querySelectorAll('.jp-Notebook .jp-Cell')];
const text = (c, mime) => [...c.querySelectorAll(`.jp-OutputArea-output[data-mime-type="${mime}"]`)]
  .map(e => e.textContent).join('');
const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
return {
  status: indicator ? indicator.getAttribute('data-status') : null,
  active: cells.findIndex(c => c.classList.contains('jp-mod-active')),
  cells: cells.map(c => ({
    code: c.classList.contains('jp-CodeCell'),
    prompt: (c.querySelector('.jp-InputPrompt') || {}).textContent || '',
    stdout: text(c, '""" + STDOUT + """'),
    stderr: text(c, '""" + STDERR + """'),
  })),
};
"""


def _state(driver):
    return driver.execute_script(_CELLS)


def _wait_state(driver, predicate, timeout, what):
    """Poll the notebook until ``predicate(state)``; fail with the last state after timeout."""
    end = time.monotonic() + timeout
    state = None
    while time.monotonic() < end:
        state = _state(driver)
        if state and predicate(state):
            return state
        time.sleep(0.5)
    brief = state and [{k: v[:200] if isinstance(v, str) else v for k, v in c.items()}
                       for c in state["cells"]]
    pytest.fail(f"JupyterLab: {what} not reached within {timeout} s; notebook state: "
                f"status={state and state['status']}, active={state and state['active']}, "
                f"cells={brief}")


def _click_command(driver, command):
    """Click the first visible toolbar button or menu item bound to a JupyterLab command."""
    from selenium.webdriver.common.by import By

    for el in driver.find_elements(By.CSS_SELECTOR, f'[data-command="{command}"]'):
        if el.is_displayed():
            el.click()
            return
    pytest.fail(f"JupyterLab: no visible control for the command {command}")


def _open_menu(driver, label):
    from selenium.webdriver.common.by import By

    for el in driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item"):
        if el.text.strip() == label:
            el.click()
            return
    pytest.fail(f"JupyterLab: no menu {label!r} in the menu bar")


# ---------------------------------------------------------------- the test


@contextlib.contextmanager
def _reader_session(workdir):
    server = LabServer(workdir)
    driver = profile = None
    try:
        server.start()
        driver, profile = _browser()
        yield server, driver
    finally:
        if driver is not None:
            with contextlib.suppress(Exception):
                driver.quit()
            shutil.rmtree(profile, ignore_errors=True)
        server.stop()


def test_readme_command_opens_and_runs_a_chapter(tmp_path):
    nb, chosen = _stored_cells()
    last = chosen[-1][0]
    sanitize = _sanitizer()
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / CHAPTER, tmp_path / "notebooks" / CHAPTER)

    with _reader_session(tmp_path) as (server, driver):
        # the page `jupyter lab notebooks/<chapter>` opens: the server's root is notebooks/
        driver.get(f"{server.url}/lab/tree/{CHAPTER}?token={server.token}")
        _wait_state(driver, lambda s: len(s["cells"]) == len(nb["cells"]) and s["status"] == "idle",
                    NOTEBOOK_OPEN_S, f"{CHAPTER} shown with {len(nb['cells'])} cells and an idle "
                    "kernel")

        _open_menu(driver, "Edit")
        _click_command(driver, "editmenu:clear-all")  # Clear Outputs of All Cells
        _wait_state(driver, lambda s: not any(c["stdout"] or c["stderr"] for c in s["cells"]),
                    30, "all outputs cleared")

        # the toolbar's run button runs the active cell and moves on, from the first cell
        state = _state(driver)
        assert state["active"] == 0, f"JupyterLab opened at cell {state['active']}, not 0"
        for index in range(last + 1):
            _click_command(driver, "notebook:run-cell-and-select-next")
            _wait_state(driver, lambda s, i=index: s["active"] == i + 1, 30,
                        f"the run button moving to cell {index + 1}")

        def finished(s):
            cells = s["cells"]
            broken = [i for i, _ in chosen if "Traceback" in cells[i]["stderr"]]
            if broken:
                pytest.fail(f"cell {broken[0]} of {CHAPTER} raised in JupyterLab:\n"
                            f"{cells[broken[0]]['stderr'][-2000:]}")
            return s["status"] == "idle" and all(
                re.fullmatch(r"\[\d+\]:", cells[i]["prompt"].strip()) for i, _ in chosen)

        state = _wait_state(driver, finished, RUN_S, f"cells up to {last} executed")
        prompts = [state["cells"][i]["prompt"].strip() for i, _ in chosen]
        assert prompts == [f"[{k}]:" for k in range(1, len(chosen) + 1)], (
            f"cells did not run once each, in order, on a fresh kernel: {prompts}")
        for index, stored in chosen:
            shown = state["cells"][index]["stdout"]
            assert sanitize(shown) == sanitize(stored), (
                f"cell {index} of {CHAPTER}: JupyterLab shows\n{shown}\nbut the notebook "
                f"stores\n{stored}")

        # progress bars are on in a reader's session (the README says so): a new cell shows one
        from selenium.webdriver.common.by import By

        _click_command(driver, "notebook:insert-cell-below")
        new = _wait_state(driver, lambda s: len(s["cells"]) == len(nb["cells"]) + 1, 30,
                          "a new cell inserted")["active"]
        editor = driver.find_elements(By.CSS_SELECTOR, ".jp-Cell.jp-mod-active .cm-content")
        assert editor, "JupyterLab: the new cell has no editor"
        editor[0].click()
        editor[0].send_keys("from infocompress.progress import progress_bar\n"
                            "total = sum(progress_bar(range(5), desc='reader check', delay=0))")
        _click_command(driver, "notebook:run-cell-and-select-next")
        state = _wait_state(driver, lambda s: s["status"] == "idle"
                            and re.fullmatch(r"\[\d+\]:", s["cells"][new]["prompt"].strip()),
                            60, "the progress-bar cell executed")
        bar = state["cells"][new]["stderr"]
        assert "reader check: 100%" in bar and "5/5" in bar, (
            f"no progress bar in JupyterLab (INFOCOMPRESS_QUIET / CI leaking into the kernel?): "
            f"stderr {bar!r}")

        SHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SHOTS / "jupyterlab_rd_one_page.png"))

    assert not server.strays, (
        f"processes left by `jupyter lab` {SHUTDOWN_S} s after its shutdown (now killed): "
        f"{server.strays}")
    assert server.proc.returncode is not None
