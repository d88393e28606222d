"""A bytecode cache for the modules that the test suite's playbooks run.

ansible-core runs every module from a zip archive, the AnsiballZ payload,
that holds the module and each module_utils it imports as source. Python's
zipimport compiles that source at every import, and Python 3.11's compiles
it twice: ``get_filename`` compiles the module only to learn its file name,
then ``get_code`` compiles it again (python/cpython#141276). Every module
run of the suite therefore compiles ansible-core's module_utils, about half
of a light module's CPU time, and the suite makes thousands of module runs
(docs/commands.md).

This importer keeps the compiled code of each source file of a payload in a
directory of the virtualenv, keyed by a SHA-256 of the interpreter's magic
number, the file's path inside the archive and its source. The code a
module runs is thus always the compilation of the very source in its
payload, as with CPython's hash-checked .pyc files (PEP 552); only
compiling it again is saved. Archives that are not AnsiballZ payloads
(``ansible_<module>_payload.zip``) are left to Python's zipimport.

The Makefile installs it in the test virtualenv with a .pth file, so the
modules that ansible-playbook runs on the venv's interpreter use it; nothing
in the collection knows about it. Set ``KUBEAUTH_ANSIBALLZ_BYTECODE_CACHE=off``
to run without it (``benchmarks/ansiballz_bytecode.py`` compares the two).

The cache holds code that modules execute, so it is used only when its
directory belongs to the user running the module, is a real directory and
is writable by nobody else (as ssh requires of ~/.ssh), inside a virtualenv
owned by that user: anyone able to write there can already change the
virtualenv's own code. Otherwise modules compile as they would without it.
"""

import _imp
import marshal
import os
import stat
import sys
import zipimport

CACHE_DIR = os.path.join(sys.prefix, "ansiballz-bytecode")
SWITCH_VARIABLE = "KUBEAUTH_ANSIBALLZ_BYTECODE_CACHE"
PAYLOAD_SUFFIX = "_payload.zip"


def payload_archive(path):
    """The AnsiballZ payload archive that ``path`` is, or is a directory of, else None.

    The importer sees the archive itself (on sys.path) and then each package
    directory inside it (``.../ansible_ping_payload.zip/ansible/module_utils``).
    """
    archive, suffix, inside = path.partition(PAYLOAD_SUFFIX)
    if suffix and (not inside or inside.startswith(os.sep)) and os.path.basename(archive).startswith("ansible_"):
        return archive + suffix
    return None


def private_directory(path):
    """Whether ``path`` can hold code: a directory of this user's, writable by no one else, in a
    directory of this user's. Created (mode 0700) when missing."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return False
    uid = os.geteuid()
    try:
        info = os.lstat(path)
        parent = os.lstat(os.path.dirname(path))
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == uid and not info.st_mode & 0o022
            and parent.st_uid == uid and not parent.st_mode & 0o022)


class CachedPayloadImporter(zipimport.zipimporter):
    """zipimport for one AnsiballZ payload, with each source file compiled once for all runs."""

    cache_dir = CACHE_DIR

    def __init__(self, path):
        super().__init__(path)
        # Each import asks get_filename, then get_code: the source they both need is read and
        # decompressed once, kept from one to the other.
        self._sources = {}

    def _source_path(self, fullname):
        """The module's source file inside the archive, as zipimport names it."""
        name = self.prefix + fullname.rpartition(".")[2]
        return name + "/__init__.py" if self.is_package(fullname) else name + ".py"

    def get_filename(self, fullname):
        # zipimport compiles the module here only to return its path; the path needs no compiling.
        self._sources[fullname] = source = self.get_source(fullname)
        if source is None:
            return super().get_filename(fullname)
        return os.path.join(self.archive, self._source_path(fullname))

    def get_code(self, fullname):
        source = self._sources.pop(fullname) if fullname in self._sources else self.get_source(fullname)
        if source is None:  # bytecode only: zipimport checks and loads it
            return super().get_code(fullname)
        # Imported here, not at start-up: every process of the venv imports this file, few run modules.
        import hashlib  # pylint: disable=import-outside-toplevel
        import importlib.util  # pylint: disable=import-outside-toplevel

        source_path = self._source_path(fullname)
        key = hashlib.sha256(importlib.util.MAGIC_NUMBER + source_path.encode() + b"\0" + source.encode())
        cached = os.path.join(self.cache_dir, key.hexdigest())
        try:
            with open(cached, "rb") as stored:
                code = marshal.loads(stored.read())
        except (OSError, EOFError, ValueError, TypeError):
            code = super().get_code(fullname)
            _store(cached, marshal.dumps(code))
        else:
            # The same source compiled for another run names that run's archive; name this one.
            _imp._fix_co_filename(code, os.path.join(self.archive, source_path))
        return code


def _store(path, data):
    """Write ``data`` at ``path`` whole or not at all: module runs read the cache while others fill it."""
    temporary = "%s.%d.tmp" % (path, os.getpid())
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as stored:
            stored.write(data)
        os.replace(temporary, path)
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass


def _path_hook(path):
    if payload_archive(path) is None:
        raise ImportError("not an AnsiballZ payload: %s" % path)
    return CachedPayloadImporter(path)


def install():
    """Put the payload importer before zipimport, when switched on and the cache is private."""
    if os.environ.get(SWITCH_VARIABLE, "on") == "off" or _path_hook in sys.path_hooks:
        return
    if private_directory(CACHE_DIR):
        sys.path_hooks.insert(0, _path_hook)
