"""The sandbox's Keycloak distribution handling (tests/sandbox/keycloak.py), without Maven or Java."""

import os
import stat
import zipfile

import pytest

import keycloak  # tests/sandbox, on the path via conftest


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as bundle:
        for name, (mode, data) in members.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFREG | mode) << 16
            bundle.writestr(info, data)


def test_unpack_keeps_the_executable_bits(tmp_path):
    archive = tmp_path / "kc.zip"
    _zip(archive, {"keycloak-1/bin/kc.sh": (0o755, "#!/bin/sh\n"), "keycloak-1/conf/keycloak.conf": (0o644, "")})
    home = keycloak._unpack(archive, tmp_path / "out")
    assert home.name == "keycloak-1"
    assert stat.S_IMODE(os.stat(home / "bin" / "kc.sh").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(home / "conf" / "keycloak.conf").st_mode) == 0o644


def test_unpack_refuses_paths_that_leave_the_archive(tmp_path):
    archive = tmp_path / "kc.zip"
    _zip(archive, {"keycloak-1/bin/kc.sh": (0o755, ""), "../escaped": (0o644, "x")})
    with pytest.raises(keycloak.KeycloakError, match="outside the archive"):
        keycloak._unpack(archive, tmp_path / "out")
    assert not (tmp_path / "escaped").exists()


def test_unpack_wants_one_distribution(tmp_path):
    archive = tmp_path / "kc.zip"
    _zip(archive, {"README": (0o644, "")})
    with pytest.raises(keycloak.KeycloakError, match="one Keycloak distribution"):
        keycloak._unpack(archive, tmp_path / "out")


def test_a_sandbox_copy_links_the_distribution_but_owns_its_database(tmp_path):
    source = tmp_path / "dist"
    (source / "lib").mkdir(parents=True)
    (source / "lib" / "app.jar").write_text("jar")
    (source / keycloak.DATA_DIR / "h2").mkdir(parents=True)
    (source / keycloak.DATA_DIR / "h2" / "keycloakdb.mv.db").write_text("db")
    (source / keycloak._CACHE_PASSWORD).write_text("cache-password")
    copy = tmp_path / "sandbox" / "home"
    keycloak._link_tree(source, copy)
    assert os.stat(copy / "lib" / "app.jar").st_ino == os.stat(source / "lib" / "app.jar").st_ino
    database = copy / keycloak.DATA_DIR / "h2" / "keycloakdb.mv.db"
    assert database.read_text() == "db"
    assert os.stat(database).st_ino != os.stat(source / keycloak.DATA_DIR / "h2" / "keycloakdb.mv.db").st_ino
    assert not (copy / keycloak._CACHE_PASSWORD).exists()  # the cache's admin password stays in the cache


def test_prepared_needs_the_marker_of_these_build_options(tmp_path, monkeypatch):
    monkeypatch.setenv("EKS_OIDC_KEYCLOAK_CACHE", str(tmp_path))
    home = keycloak.distribution_dir()
    assert home == tmp_path / ("keycloak-" + keycloak.VERSION)
    assert keycloak.prepared() is None
    home.mkdir()
    (home / keycloak._PREPARED_MARKER).write_text("--db=dev-mem\n")  # prepared with other options
    assert keycloak.prepared() is None
    (home / keycloak._PREPARED_MARKER).write_text(keycloak._marker_text())
    assert keycloak.prepared() == home
