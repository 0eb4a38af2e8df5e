"""Tests of load-tests/run.sh's settings: each bad one is refused with exit status 2 and a message
naming it, before any server starts (python3 -m pytest load-tests/test_run_sh.py)."""
import os
import pathlib
import signal
import subprocess

RUN = pathlib.Path(__file__).with_name("run.sh")


def refused(tmp_path, **settings):
    shared = tmp_path / "shared"
    (shared / "tools" / "raw-baseline").mkdir(parents=True, exist_ok=True)
    (shared / "tools" / "raw-baseline" / "BaselineServer.java").write_text("// stand-in: never started\n")
    env = dict(os.environ, SHARED=str(shared), **settings)
    # its own process group: a run.sh that wrongly went on to start servers is stopped whole
    proc = subprocess.Popen(["bash", str(RUN), "01"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError("run.sh accepted the settings and went on to run")
    assert proc.returncode == 2, stdout + stderr
    return stderr


def test_server_cpus_without_client_cpus_is_refused(tmp_path):
    assert "SERVER_CPUS and CLIENT_CPUS go together" in refused(tmp_path, SERVER_CPUS="0")


def test_client_cpus_without_server_cpus_is_refused(tmp_path):
    assert "SERVER_CPUS and CLIENT_CPUS go together" in refused(tmp_path, CLIENT_CPUS="0")


def test_a_cpu_list_the_machine_cannot_run_on_is_refused(tmp_path):
    cpus = str(os.cpu_count() + 64)
    assert f"'{cpus}' is not a CPU list" in refused(tmp_path, SERVER_CPUS="0", CLIENT_CPUS=cpus)
    assert "'zero' is not a CPU list" in refused(tmp_path, SERVER_CPUS="zero", CLIENT_CPUS="0")


def test_an_unknown_server_is_refused(tmp_path):
    assert "unknown server 'nginx'" in refused(tmp_path, SERVERS="raw nginx framepipe")


def test_a_run_without_raw_or_framepipe_is_refused(tmp_path):
    assert "SERVERS must hold raw" in refused(tmp_path, SERVERS="raw netty")


def test_a_bad_round_count_is_refused(tmp_path):
    assert "ROUNDS must be a positive whole number" in refused(tmp_path, ROUNDS="0")
