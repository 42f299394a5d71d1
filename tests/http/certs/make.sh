#!/bin/sh
# The test certificates: a self-signed one for localhost and 127.0.0.1
# (valid 100 years), and one for another name, made with the openssl tool.
# Run from this folder to make them anew.
set -eu
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 36500 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -addext "basicConstraints=critical,CA:FALSE" -addext "extendedKeyUsage=serverAuth" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout other_key.pem -out other_cert.pem -days 36500 \
    -subj "/CN=other.test" -addext "subjectAltName=DNS:other.test" \
    -addext "basicConstraints=critical,CA:FALSE" -addext "extendedKeyUsage=serverAuth" 2>/dev/null
