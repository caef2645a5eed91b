#!/bin/bash
# Installs the Debian packages custos needs to build, run and test, when any is missing.
# Quiet when everything is present; safe to run again.
set -euo pipefail

pkgs=(
	# build
	gcc make pkg-config clang libclang-rt-14-dev
	libfcgi-dev libpq-dev libhiredis-dev libjson-c-dev libssl-dev libargon2-dev libcrypt-dev libcmocka-dev libesmtp-dev libcurl4-openssl-dev liblua5.4-dev libzxcvbn-dev
	libxml2-dev libxmlsec1-dev zlib1g-dev
	# run
	postgresql-15 redis-server lighttpd lighttpd-mod-deflate apache2 libapache2-mod-fcgid libfcgi-bin
	# test and check
	python3 python3-pytest python3-requests python3-psycopg2 python3-argon2 python3-aiosmtpd python3-django curl openssl redis-tools
	# SAML proof: the reference signer and a real service-provider library
	xmlsec1 python3-onelogin-saml2
	# OAuth2 / OpenID Connect proof: client libraries and a real relying party
	python3-authlib python3-jwcrypto libapache2-mod-auth-openidc
	chromium nodejs
	clang-format cppcheck wrk procps
)

missing=()
for p in "${pkgs[@]}"; do
	[[ $p == \#* ]] && continue
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
# Debian's nodejs comes without npm; other builds of nodejs carry their own.
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "custos: missing packages: ${missing[*]}" >&2
	echo "custos: install them as root: apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "custos: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Services that packages start on install are not ours; keep them from starting.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
