#!/usr/bin/env python3
"""Throwaway TLS certificates for the wss:// and https:// tests (python3-cryptography).

usage: tls_certs.py OUTDIR

Writes, in OUTDIR (made if missing), PEM files made fresh on every call:
  ca.pem                      the test CA (trusted by the tests through --ca-file)
  localhost.pem/.key          leaf for DNS:localhost and IP:127.0.0.1, valid now, signed by ca
  localhost-name.pem/.key     leaf for DNS:localhost only (https://127.0.0.1 is the wrong host)
  wronghost.pem/.key          leaf for DNS:wrong.example only, signed by ca
  expired.pem/.key            leaf for localhost/127.0.0.1 that expired yesterday, signed by ca
  unknownca.pem/.key          leaf for localhost/127.0.0.1 signed by another CA nobody trusts
Prints OUTDIR on stdout.
"""
import datetime
import ipaddress
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _ca(cn, now):
    key = _key()
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def _leaf(ca_key, ca_cert, names, ips, not_before, not_after):
    key = _key()
    san = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (x509.CertificateBuilder().subject_name(_name(names[0]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName(san), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def _write_pair(outdir, stem, key, cert):
    _write(os.path.join(outdir, stem + ".pem"), cert.public_bytes(serialization.Encoding.PEM))
    _write(os.path.join(outdir, stem + ".key"),
           key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()))
    os.chmod(os.path.join(outdir, stem + ".key"), 0o600)


def make_certs(outdir):
    """Writes the files listed in the module doc into outdir and returns outdir."""
    os.makedirs(outdir, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    ca_key, ca_cert = _ca("shadow test CA", now)
    _write(os.path.join(outdir, "ca.pem"), ca_cert.public_bytes(serialization.Encoding.PEM))
    day = datetime.timedelta(days=1)
    local = (["localhost"], ["127.0.0.1"])
    _write_pair(outdir, "localhost", *_leaf(ca_key, ca_cert, *local, now - day, now + 30 * day))
    _write_pair(outdir, "localhost-name",
                *_leaf(ca_key, ca_cert, ["localhost"], [], now - day, now + 30 * day))
    _write_pair(outdir, "wronghost",
                *_leaf(ca_key, ca_cert, ["wrong.example"], [], now - day, now + 30 * day))
    _write_pair(outdir, "expired", *_leaf(ca_key, ca_cert, *local, now - 30 * day, now - day))
    other_key, other_cert = _ca("some other CA", now)
    _write_pair(outdir, "unknownca", *_leaf(other_key, other_cert, *local, now - day, now + 30 * day))
    return outdir


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) == 2 else 2)
    print(make_certs(sys.argv[1]))
