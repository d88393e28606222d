"""The sandbox's private certificate authority.

One CA signs every certificate the sandbox serves or presents: MiniStack's
HTTPS listener, each kube-apiserver's serving certificate and the admin
client certificates. So a single PEM file (``ca.crt``) is all boto3, PyJWT,
kubectl and kube-apiserver (for the Cognito discovery fetch) need to trust.

Keys are ECDSA P-256: generating them is instant (RSA-2048 takes ~100 ms
each), and Python's ssl, Go's crypto/tls and etcd all accept them.
"""

from __future__ import annotations

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_CERT = "ca.crt"
CA_KEY = "ca.key"
_CA_DAYS = 3650
_LEAF_DAYS = 825  # the longest validity macOS/Chrome still accept for a leaf
# Every flag of x509.KeyUsage, which takes them all: _builder turns on only those a certificate needs.
_KEY_USAGE_FLAGS = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                    "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")


def write_private(path: str, data: bytes) -> None:
    """Write a secret so that it is never readable by others, not even briefly."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)  # the file may have existed with wider permissions


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(common_name: str, organizations: tuple[str, ...] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _validity(builder: x509.CertificateBuilder, days: int) -> x509.CertificateBuilder:
    # Backdated a little so a clock that lags the host's by seconds still accepts it.
    now = datetime.datetime.now(datetime.timezone.utc)
    return builder.not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(
        now + datetime.timedelta(days=days)
    )


def ensure_ca(directory: str) -> tuple[str, str]:
    """Return (cert, key) paths of the CA in `directory`, creating it on first use.

    An existing CA is kept so that anything already told to trust it
    (a kubeconfig, an exported AWS_CA_BUNDLE) keeps working across restarts.
    """
    cert_path = os.path.join(directory, CA_CERT)
    key_path = os.path.join(directory, CA_KEY)
    if os.path.exists(cert_path) and os.path.exists(key_path):
        return cert_path, key_path
    key = _new_key()
    name = _name("kubeauth.eks_oidc sandbox CA", ("kubeauth.eks_oidc sandbox",))
    builder = (
        _builder(name, name, key, ca=True, usages=("digital_signature", "key_cert_sign", "crl_sign"))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    _write(_validity(builder, _CA_DAYS).sign(key, hashes.SHA256()), key, cert_path, key_path)
    return cert_path, key_path


def _builder(subject: x509.Name, issuer: x509.Name, key, *, ca: bool, usages: tuple[str, ...]) -> x509.CertificateBuilder:
    """A certificate of `key` for `subject`, a CA or a leaf, allowed exactly the key `usages` (names of
    x509.KeyUsage's flags, every other flag off)."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(x509.KeyUsage(**{flag: flag in usages for flag in _KEY_USAGE_FLAGS}), critical=True)
    )


def _write(cert, key, cert_path: str, key_path: str) -> None:
    """The key (0600, write_private) and its certificate, PEM."""
    write_private(key_path, _key_pem(key))
    with open(cert_path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))


def _load_ca(ca_cert_path: str, ca_key_path: str):
    with open(ca_cert_path, "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    with open(ca_key_path, "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    return cert, key


def issue(
    ca_cert_path: str,
    ca_key_path: str,
    cert_path: str,
    key_path: str,
    common_name: str,
    *,
    dns_names: tuple[str, ...] = (),
    ip_addresses: tuple[str, ...] = (),
    organizations: tuple[str, ...] = (),
    server: bool = False,
    client: bool = False,
) -> None:
    """Issue a leaf certificate signed by the CA and write it with its 0600 key.

    `organizations` become the subject's O= values, which kube-apiserver maps
    to groups for client certificates (O=system:masters is cluster-admin).
    """
    ca_cert, ca_key = _load_ca(ca_cert_path, ca_key_path)
    key = _new_key()
    usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if server else []) + (
        [ExtendedKeyUsageOID.CLIENT_AUTH] if client else []
    )
    builder = (
        _builder(_name(common_name, organizations), ca_cert.subject, key, ca=False, usages=("digital_signature",))
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False
        )
    )
    sans = [x509.DNSName(n) for n in dns_names] + [
        x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses
    ]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    _write(_validity(builder, _LEAF_DAYS).sign(ca_key, hashes.SHA256()), key, cert_path, key_path)


def new_signing_key(key_path: str, public_path: str) -> None:
    """A bare key pair (kube-apiserver's service-account token signing key)."""
    key = _new_key()
    write_private(key_path, _key_pem(key))
    with open(public_path, "wb") as handle:
        handle.write(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
