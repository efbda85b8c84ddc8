#!/bin/sh
# One-shot (compose service temporal-certs, docker-compose.tls.yml): on first start, a CA and one
# certificate per Temporal client (worker, api, ui, setup) and one for the server, each written into that
# service's own volume with the CA's certificate beside it; the CA's key stays in this service's volume.
# Later starts keep what is there and remake only a certificate that is missing, expired or not signed
# by the CA. Runs in the PostgreSQL image (it has openssl), as root, with no network.
set -eu
umask 077
CA=/tls/ca
DAYS=${TEMPORAL_TLS_DAYS:-825}
# Every image that reads these files runs as uid 1000 (temporal in Temporal's images, node in Medic's).
OWNER=${TEMPORAL_TLS_OWNER:-1000}
SERVER_NAME=${TEMPORAL_TLS_SERVER_NAME:-temporal}

if [ ! -s "$CA/ca.key" ] || [ ! -s "$CA/ca.pem" ]; then
  openssl ecparam -name prime256v1 -genkey -noout -out "$CA/ca.key"
  openssl req -x509 -new -key "$CA/ca.key" -out "$CA/ca.pem" -days 3650 -subj "/CN=medic-temporal-ca"
  echo "made a new CA"
fi

# leaf <name> <folder> <extensions>
leaf() {
  name=$1
  dir=$2
  if [ -s "$dir/tls.pem" ] && [ -s "$dir/tls.key" ] &&
    openssl verify -CAfile "$CA/ca.pem" "$dir/tls.pem" >/dev/null 2>&1; then
    echo "$name: certificate kept"
  else
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n%s\n' "$3" > "$CA/$name.ext"
    openssl ecparam -name prime256v1 -genkey -noout -out "$dir/tls.key"
    openssl req -new -key "$dir/tls.key" -out "$CA/$name.csr" -subj "/CN=$name"
    openssl x509 -req -in "$CA/$name.csr" -CA "$CA/ca.pem" -CAkey "$CA/ca.key" \
      -set_serial "0x$(openssl rand -hex 16)" -days "$DAYS" -extfile "$CA/$name.ext" -out "$dir/tls.pem"
    rm -f "$CA/$name.csr" "$CA/$name.ext"
    echo "$name: new certificate"
  fi
  openssl x509 -in "$CA/ca.pem" -out "$dir/ca.pem"
  chown "$OWNER:$OWNER" "$dir/tls.key" "$dir/tls.pem" "$dir/ca.pem"
  chmod 400 "$dir/tls.key"
  chmod 444 "$dir/tls.pem" "$dir/ca.pem"
}

# The server's certificate also serves as its client certificate between its own services.
leaf "$SERVER_NAME" /tls/server \
  "subjectAltName=DNS:$SERVER_NAME,DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth"
for client in worker api ui setup; do
  leaf "medic-$client" "/tls/$client" "extendedKeyUsage=clientAuth"
done
