#!/usr/bin/env bash
# demo.sh - build rlm_vrms2fa and start it on an embedded default: a private
# MariaDB in demo/ (socket only, no TCP), radiusd on a loopback port with the
# freshly built module, a demo company and two users; then print what to type.
#
#   scripts/demo.sh          start (or restart) it
#   scripts/demo.sh stop     stop radiusd and MariaDB
#
# VRMS2FA_PORT and VRMS2FA_SECRET set the port and the shared secret.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
state="$top/demo"
db_sock="$state/mariadb.sock"

stop() {
	if [ -f "$state/run/radiusd.pid" ]; then
		kill "$(cat "$state/run/radiusd.pid")" 2>/dev/null || true
		rm -f "$state/run/radiusd.pid"
	fi
	if [ -S "$db_sock" ]; then
		mariadb-admin --no-defaults -S "$db_sock" -uroot shutdown 2>/dev/null || true
	fi
}

if [ "${1:-}" = "stop" ]; then
	stop
	echo "demo stopped"
	exit 0
fi

scripts/install-deps.sh
scripts/build.sh
stop

free_udp_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port=${VRMS2FA_PORT:-$(free_udp_port)}
secret=${VRMS2FA_SECRET:-testing123}

mkdir -p "$state/log" "$state/run" "$state/raddb/mods-enabled" "$state/raddb/sites-enabled"

# MariaDB: a private data folder, reachable only through its socket.
if [ ! -d "$state/mysql/mysql" ]; then
	mariadb-install-db --no-defaults --datadir="$state/mysql" --user=root \
		--auth-root-authentication-method=socket --skip-test-db >"$state/log/mariadb-install.log" 2>&1
fi
mariadbd --no-defaults --datadir="$state/mysql" --socket="$db_sock" --skip-networking --user=root \
	--pid-file="$state/run/mariadb.pid" --log-error="$state/log/mariadb.log" \
	--innodb-buffer-pool-size=64M >/dev/null 2>&1 &
for _ in $(seq 1 60); do
	mariadb-admin --no-defaults -S "$db_sock" -uroot ping >/dev/null 2>&1 && break
	sleep 0.5
done
mariadb-admin --no-defaults -S "$db_sock" -uroot ping >/dev/null
db_password=$(openssl rand -hex 16)
mariadb --no-defaults -S "$db_sock" -uroot <<SQL
CREATE DATABASE IF NOT EXISTS vrms2fa CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'vrms2fa'@'localhost';
ALTER USER 'vrms2fa'@'localhost' IDENTIFIED BY '$db_password';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES, DROP, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, EXECUTE ON vrms2fa.* TO 'vrms2fa'@'localhost';
SQL

# The key that encrypts TOTP secrets at rest.
if [ ! -f "$state/vrms2fa.key" ]; then
	(umask 077; printf '1 %s\n' "$(openssl rand -hex 32)" > "$state/vrms2fa.key")
fi

# radiusd's configuration, from the project's raddb/ files.
sed -e "s|^\(\t\tserver = \).*|\1\"\"|" \
    -e "s|^\(\t\tsocket = \).*|\1\"$db_sock\"|" \
    -e "s|^\(\t\tpassword = \).*|\1\"$db_password\"|" \
    -e "s|^\(\tkey_file = \).*|\1\"$state/vrms2fa.key\"|" \
    -e "s|^\(\t\tenabled = \).*|\1no|" \
    raddb/mods-available/vrms2fa > "$state/raddb/mods-enabled/vrms2fa"
sed -e "s|^\(\t\tport = \).*|\1$port|" raddb/sites-available/vrms2fa > "$state/raddb/sites-enabled/vrms2fa"
cat > "$state/raddb/dictionary" <<EOD
\$INCLUDE /usr/share/freeradius/dictionary
\$INCLUDE $top/raddb/dictionary.vrms2fa
EOD
cat > "$state/raddb/radiusd.conf" <<EOC
prefix = /usr
raddbdir = $state/raddb
confdir = \${raddbdir}
logdir = $state/log
run_dir = $state/run
pidfile = \${run_dir}/radiusd.pid
libdir = $top/.libs:/usr/lib/freeradius
max_request_time = 30
max_requests = 4096
log {
	destination = files
	file = \${logdir}/radius.log
	auth = yes
	auth_badpass = no
	auth_goodpass = no
	suppress_secrets = yes
}
security {
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 1
}
thread pool {
	start_servers = 4
	max_servers = 32
	min_spare_servers = 2
	max_spare_servers = 8
}
client localhost {
	ipaddr = 127.0.0.1
	secret = $secret
	require_message_authenticator = no
}
modules {
	\$INCLUDE mods-enabled/
}
\$INCLUDE sites-enabled/
EOC

admin() { ./vrms2fa-admin --config "$state/raddb/mods-enabled/vrms2fa" --sql-dir "$top/sql" "$@"; }
admin db migrate
admin company show "Demo Co" >/dev/null 2>&1 || admin company add "Demo Co" >/dev/null
admin user show demo >/dev/null 2>&1 || echo "demo-password" | admin user add demo --company "Demo Co" \
	--group company_user --email demo@example.com --password-stdin >/dev/null
admin user show demo2fa >/dev/null 2>&1 || echo "demo-password" | admin user add demo2fa --company "Demo Co" \
	--group administrator --email admin@example.com --password-stdin >/dev/null

freeradius -d "$state/raddb" >"$state/log/radiusd.out" 2>&1 || {
	echo "radiusd did not start; see $state/log/radius.log and $state/log/radiusd.out" >&2
	tail -n 20 "$state/log/radius.log" >&2 || true
	exit 1
}
for _ in $(seq 1 40); do
	radtest -t pap demo demo-password 127.0.0.1:"$port" 0 "$secret" >/dev/null 2>&1 && break
	sleep 0.25
done

cat <<EOT

rlm_vrms2fa is running: radiusd on 127.0.0.1:$port (shared secret "$secret"),
MariaDB in demo/ (socket $db_sock).

A user without two-step verification (Access-Accept with a reminder; email
confirmation of new addresses is off in this demo, see README "Email"):
    radtest -t pap demo demo-password 127.0.0.1:$port 0 $secret

A user to set up two-step verification for: scan the QR code below (or type
the key), then confirm with the code your app shows:
EOT
if admin user show demo2fa | grep -q "two-step:         active"; then
	echo "    (demo2fa is already enrolled; 'vrms2fa-admin enroll reset demo2fa' to start again)"
else
	admin enroll begin demo2fa --qr ansi || admin enroll begin demo2fa
fi
cat <<EOT
    ./vrms2fa-admin --config demo/raddb/mods-enabled/vrms2fa enroll confirm demo2fa CODE

Then log in with the challenge (round 1 prints a State, round 2 sends it back):
    printf 'User-Name = "demo2fa"\nUser-Password = "demo-password"\nCalling-Station-Id = "192.0.2.7"\nMessage-Authenticator = 0x00\n' \\
        | radclient -x 127.0.0.1:$port auth $secret
    printf 'User-Name = "demo2fa"\nUser-Password = "CODE"\nCalling-Station-Id = "192.0.2.7"\nState = 0x...\nMessage-Authenticator = 0x00\n' \\
        | radclient -x 127.0.0.1:$port auth $secret

Stop it with: scripts/demo.sh stop
EOT
