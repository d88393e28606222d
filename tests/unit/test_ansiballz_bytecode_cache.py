"""tests/ansiballz_bytecode_cache.py: payloads load compiled code from the cache, never stale code.

Each import runs in a fresh interpreter, as a module run does: the hook
installed by the Makefile's .pth file is switched off there, and the driver
puts the file under test before zipimport with a cache of the test's own.
"""

import hashlib
import importlib.util
import json
import marshal
import os
import stat
import subprocess
import sys
import zipfile
import zipimport

import pytest

HOOK_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ansiballz_bytecode_cache.py")


def load_hook():
    # By path and under its own name: the venv's interpreter already imported its installed copy at start-up.
    spec = importlib.util.spec_from_file_location("ansiballz_bytecode_cache_under_test", HOOK_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hook = load_hook()

DRIVER = """
import importlib.util, json, sys
hook_file, cache_dir, archive = sys.argv[1:]
spec = importlib.util.spec_from_file_location("hook", hook_file)
hook = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hook)
hook.CachedPayloadImporter.cache_dir = cache_dir
sys.path_hooks.insert(0, hook._path_hook)
sys.path.insert(0, archive)
import pkg.mod
print(json.dumps({"value": pkg.mod.VALUE, "package_file": pkg.__file__, "module_file": pkg.mod.__file__,
                  "code_file": pkg.mod.where(), "loader": type(pkg.mod.__loader__).__name__}))
"""

MODULE_SOURCE = "import sys\nVALUE = %r\n\ndef where():\n    return sys._getframe().f_code.co_filename\n"


def make_archive(directory, value, name="ansible_demo_payload.zip"):
    """An archive laid out as AnsiballZ lays out a payload: a package of sources, no bytecode."""
    os.makedirs(directory, exist_ok=True)
    archive = os.path.join(directory, name)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as payload:
        payload.writestr("pkg/__init__.py", "")
        payload.writestr("pkg/mod.py", MODULE_SOURCE % value)
    return archive


def import_from(archive, cache_dir):
    env = dict(os.environ, **{hook.SWITCH_VARIABLE: "off"})
    result = subprocess.run([sys.executable, "-c", DRIVER, HOOK_FILE, str(cache_dir), archive],
                            env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def cache_key(source_path, source):
    """The key the cache documents: interpreter magic number, path inside the archive, source."""
    return hashlib.sha256(importlib.util.MAGIC_NUMBER + source_path.encode() + b"\0" + source.encode()).hexdigest()


@pytest.fixture
def cache_dir(tmp_path):
    path = tmp_path / "cache"
    path.mkdir(mode=0o700)
    return path


def test_first_run_compiles_as_zipimport_does_and_fills_the_cache(tmp_path, cache_dir):
    archive = make_archive(str(tmp_path / "run1"), "first")

    imported = import_from(archive, cache_dir)

    assert imported == {
        "value": "first",
        "package_file": os.path.join(archive, "pkg", "__init__.py"),
        "module_file": os.path.join(archive, "pkg", "mod.py"),
        "code_file": os.path.join(archive, "pkg", "mod.py"),
        "loader": "CachedPayloadImporter",
    }
    entries = sorted(os.listdir(cache_dir))
    assert entries == sorted([cache_key("pkg/__init__.py", ""), cache_key("pkg/mod.py", MODULE_SOURCE % "first")])
    assert all(stat.S_IMODE(os.stat(cache_dir / entry).st_mode) == 0o600 for entry in entries)


def test_next_run_executes_the_cached_code_under_its_own_archive_name(tmp_path, cache_dir):
    import_from(make_archive(str(tmp_path / "run1"), "first"), cache_dir)
    # Prove the second run reads the cache: the entry for this source now holds other code.
    entry = cache_dir / cache_key("pkg/mod.py", MODULE_SOURCE % "first")
    entry.write_bytes(marshal.dumps(compile(MODULE_SOURCE % "from the cache", "elsewhere/mod.py", "exec")))
    second = make_archive(str(tmp_path / "run2"), "first")

    imported = import_from(second, cache_dir)

    assert imported["value"] == "from the cache"
    # The code names the archive of the run that loads it, as tracebacks must.
    assert imported["code_file"] == imported["module_file"] == os.path.join(second, "pkg", "mod.py")
    assert len(os.listdir(cache_dir)) == 2


def test_changed_source_is_compiled_again_never_served_stale(tmp_path, cache_dir):
    import_from(make_archive(str(tmp_path / "run1"), "first"), cache_dir)

    imported = import_from(make_archive(str(tmp_path / "run2"), "second"), cache_dir)

    assert imported["value"] == "second"
    assert cache_key("pkg/mod.py", MODULE_SOURCE % "second") in os.listdir(cache_dir)
    assert len(os.listdir(cache_dir)) == 3


def test_unreadable_entry_is_compiled_and_replaced(tmp_path, cache_dir):
    entry = cache_dir / cache_key("pkg/mod.py", MODULE_SOURCE % "first")
    entry.write_bytes(b"not marshalled code")

    imported = import_from(make_archive(str(tmp_path / "run1"), "first"), cache_dir)

    assert imported["value"] == "first"
    assert marshal.loads(entry.read_bytes()).co_filename.endswith(os.path.join("pkg", "mod.py"))


def test_other_archives_are_left_to_zipimport(tmp_path, cache_dir):
    archive = make_archive(str(tmp_path / "run1"), "first", name="library.zip")

    imported = import_from(archive, cache_dir)

    assert imported["value"] == "first"
    assert imported["loader"] == "zipimporter"
    assert os.listdir(cache_dir) == []


@pytest.mark.parametrize("path, archive", [
    ("/tmp/ansible_x_payload_1/ansible_ping_payload.zip", "/tmp/ansible_x_payload_1/ansible_ping_payload.zip"),
    ("/tmp/a/ansible_ping_payload.zip/ansible/module_utils", "/tmp/a/ansible_ping_payload.zip"),
    ("/tmp/a/ansible_ping_payload.zipped", None),
    ("/tmp/a/other_ping_payload.zip", None),
    ("/tmp/a/library.zip", None),
    ("/usr/lib/python3/dist-packages", None),
])
def test_payload_archive_recognises_ansiballz_names_only(path, archive):
    assert hook.payload_archive(path) == archive


def test_private_directory_is_created_owner_only(tmp_path):
    tmp_path.chmod(0o755)
    path = tmp_path / "cache"

    assert hook.private_directory(str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o700


@pytest.mark.parametrize("problem", ["writable by others", "writable by group", "parent writable by others", "symlink"])
def test_private_directory_refuses_what_others_could_write(tmp_path, problem):
    tmp_path.chmod(0o755)
    path = tmp_path / "cache"
    path.mkdir(mode=0o700)
    if problem == "writable by others":
        path.chmod(0o703)
    elif problem == "writable by group":
        path.chmod(0o730)
    elif problem == "parent writable by others":
        tmp_path.chmod(0o777)
    else:
        path = tmp_path / "link"
        path.symlink_to(tmp_path / "cache")

    assert not hook.private_directory(str(path))


@pytest.fixture
def path_hooks(monkeypatch):
    hooks = [hook for hook in sys.path_hooks if getattr(hook, "__name__", "") != "_path_hook"]
    monkeypatch.setattr(sys, "path_hooks", hooks)
    return hooks


def test_install_puts_the_importer_before_zipimport(tmp_path, monkeypatch, path_hooks):
    tmp_path.chmod(0o755)
    monkeypatch.setattr(hook, "CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(hook.SWITCH_VARIABLE, raising=False)

    hook.install()
    hook.install()

    assert sys.path_hooks[0] is hook._path_hook
    assert sys.path_hooks.count(hook._path_hook) == 1
    assert sys.path_hooks.index(hook._path_hook) < sys.path_hooks.index(zipimport.zipimporter)


def test_install_does_nothing_when_switched_off(tmp_path, monkeypatch, path_hooks):
    tmp_path.chmod(0o755)
    monkeypatch.setattr(hook, "CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv(hook.SWITCH_VARIABLE, "off")

    hook.install()

    assert hook._path_hook not in sys.path_hooks


def test_install_does_nothing_when_the_cache_is_not_private(tmp_path, monkeypatch, path_hooks):
    tmp_path.chmod(0o755)
    shared = tmp_path / "cache"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setattr(hook, "CACHE_DIR", str(shared))
    monkeypatch.delenv(hook.SWITCH_VARIABLE, raising=False)

    hook.install()

    assert hook._path_hook not in sys.path_hooks


def test_installed_copy_matches_the_checkout():
    """The Makefile copies this file into the venv; a stale copy would run code this test does not see."""
    installed = importlib.util.find_spec("ansiballz_bytecode_cache")
    if installed is None:
        pytest.fail("the venv has no ansiballz_bytecode_cache: run `make venv`")
    with open(installed.origin, "rb") as copy, open(HOOK_FILE, "rb") as checkout:
        assert copy.read() == checkout.read()
