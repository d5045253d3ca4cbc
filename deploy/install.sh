#!/usr/bin/env bash
# deploy/install.sh: installs, upgrades or removes the RavenXcope sensor agent on a systemd host.
# Usage and decisions: docs/install.md. Run as root; `bash install.sh --help` lists the options.
#
# Bash, not POSIX sh: the install token must never reach the argv of a child process, and bash can
# read it without echo (`read -s`), test and write it with builtins only (`[[ ]]`, `printf`), and
# parse the env file (docs/configuration.md) with `[[ =~ ]]` instead of sed or awk. POSIX sh has no
# `read -s`, and `stty -echo` would need a trap to restore the terminal on every exit path.
set -Eeuo pipefail
umask 077 # everything this script creates is private unless it says otherwise
export LC_ALL=C
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin" # useradd lives in sbin, which `su` may leave out

# Take the install token out of the environment at once: no child process may inherit it.
install_token=${INSTALL_TOKEN-}
install_token_source=
[[ -z $install_token ]] || install_token_source="INSTALL_TOKEN in the environment"
unset INSTALL_TOKEN

readonly BIN_DIR=/usr/local/bin
readonly BIN=$BIN_DIR/sensor-agent
readonly UNIT_DIR=/etc/systemd/system
readonly UNIT=$UNIT_DIR/sensor-agent.service
readonly DROPIN_DIR=$UNIT_DIR/sensor-agent.service.d
# The agent reads this one (deno.json grants it) to say when the pin no longer matches.
readonly PIN=$DROPIN_DIR/backend-address.conf
readonly RESOLVER_DROPIN=$DROPIN_DIR/resolver.conf
readonly SERVICE=sensor-agent
readonly CONF_DIR=/etc/ravenxcope
readonly CONF=$CONF_DIR/sensor-agent.env
readonly AGENT_USER=ravenxcope
readonly MAX_CONF_BYTES=65536 # the agent refuses a bigger file (docs/configuration.md)

# Exit codes, as sysexits.h and the agent (docs/configuration.md, Exit codes) use them.
readonly EX_FAIL=1 EX_USAGE=64 EX_DATAERR=65 EX_NOINPUT=66 EX_UNAVAILABLE=69 EX_NOPERM=77
readonly EX_CONFIG=78

usage() {
  cat <<'EOF'
Usage: sudo bash install.sh --backend-url URL --binary PATH|URL [--sha256 HEX] [options]
       sudo bash install.sh --uninstall [--remove-user]

Installs the sensor agent at /usr/local/bin/sensor-agent, its systemd unit, the system user
ravenxcope and the config /etc/ravenxcope/sensor-agent.env, then enables and starts the service.
Running it again upgrades the binary and keeps the sensor token.

The install token is read from INSTALL_TOKEN in the environment, from --install-token-file, or
from a hidden prompt on the terminal; never from the command line, where every local user can
read it (ps, /proc/<pid>/cmdline). It is needed only until the agent has enrolled.

Options:
  --backend-url URL          backend base URL, http(s)://host[:port][/path] (first install)
  --sensor-id ID             operator's label for this sensor (SENSOR_ID)
  --sensor-port N            SSH port reported for Ansible, 1-65535 (SENSOR_PORT)
  --binary PATH|URL          the sensor-agent binary to install (first install; later: upgrade)
  --sha256 HEX               its SHA-256; nothing is installed on a mismatch. Required for a URL
  --insecure-no-checksum     download a URL binary without --sha256 (not recommended)
  --unit PATH                the systemd unit (default: sensor-agent.service beside install.sh)
  --pin-backend-address      let the agent reach only the backend's current addresses (and the
                             DNS resolver and loopback): a drop-in with IPAddressDeny=any and
                             IPAddressAllow=; run it again when the backend moves
  --install-token-file PATH  read the install token from PATH (/dev/stdin to pipe it)
  --uninstall                stop and disable the service, remove the unit and the binary;
                             /etc/ravenxcope (with the sensor token) is kept
  --remove-user              with --uninstall: also remove the user ravenxcope
  -h, --help                 show this help

Exit codes: 0 done, 1 a step failed, 64 bad command line, 65 checksum or version mismatch,
66 a file to install is missing, 69 download failed or the backend's name does not resolve,
77 not root, 78 the existing config is invalid.
EOF
}

say() { printf 'install.sh: %s\n' "$*"; }
warn() { printf 'install.sh: warning: %s\n' "$*" >&2; }
die() {
  local code=$1
  shift
  printf 'install.sh: error: %s\n' "$*" >&2
  exit "$code"
}

# A command that fails outside a condition stops the script; say where, once, and what to do. The
# command is shown as written in this file (unexpanded), so no value appears in the message.
on_error() {
  local status=$1 line=$2 command=$3
  trap - ERR
  ((BASH_SUBSHELL == 0)) || exit "$status" # the main shell reports it once
  printf 'install.sh: error: line %s: %s failed (exit %s); fix the cause above and run install.sh again\n' \
    "$line" "'$command'" "$status" >&2
  exit "$EX_FAIL"
}
trap 'on_error $? $LINENO "$BASH_COMMAND"' ERR

# Temporary files go beside their targets (so `mv` is an atomic rename) and are removed on any exit.
temp_files=()
conf_dir_taken=0
cleanup() {
  if ((${#temp_files[@]} > 0)); then rm -f -- "${temp_files[@]}"; fi
  if ((conf_dir_taken)); then chown "$AGENT_USER:$AGENT_USER" "$CONF_DIR" || true; fi
}
trap cleanup EXIT

# make_temp DIR NAME: creates DIR/.NAME.XXXXXX (mode 0600) and sets $made_temp to it.
made_temp=
make_temp() {
  made_temp=$(mktemp "$1/.$2.XXXXXX")
  temp_files+=("$made_temp")
}

# --- values -------------------------------------------------------------------------------------

# The env file holds every value single-quoted, which the agent reads literally (docs/configuration.md,
# Env file grammar): a value may hold anything except a single quote and control characters (a
# newline would end the line; the others are never part of a URL, label or token).
check_env_value() {
  local what=$1 value=$2
  if [[ $value == *"'"* ]]; then
    die "$EX_USAGE" "$what holds a single quote, which the env file cannot hold; remove it"
  fi
  if [[ $value == *[[:cntrl:]]* ]]; then
    die "$EX_USAGE" "$what holds a newline or another control character; remove it"
  fi
}

# Mirrors what the agent accepts for BACKEND_URL (lib/config/values.ts), so a typo fails here, not
# later.
check_backend_url() {
  local url=$1 rest host
  local advice="pass --backend-url like https://backend.example:5009"
  check_env_value "--backend-url" "$url"
  [[ $url =~ ^[Hh][Tt][Tt][Pp][Ss]?:// ]] || die "$EX_USAGE" "--backend-url must start with https:// or http://; $advice"
  [[ $url != *[[:space:]]* ]] || die "$EX_USAGE" "--backend-url contains white space; $advice"
  [[ $url != *[?#]* ]] || die "$EX_USAGE" "--backend-url carries a query or fragment; $advice"
  rest=${url#*://}
  host=${rest%%/*}
  [[ $host != *@* ]] || die "$EX_USAGE" "--backend-url carries credentials (user@); remove them: the agent authenticates with its tokens"
  [[ -n $host && $host != :* ]] || die "$EX_USAGE" "--backend-url has no host; $advice"
}

check_port() {
  if ! [[ $1 =~ ^[0-9]{1,5}$ ]] || ((10#$1 < 1 || 10#$1 > 65535)); then
    die "$EX_USAGE" "--sensor-port must be a port from 1 to 65535"
  fi
}

# check_token VALUE SOURCE: refuses what the env file could not carry, without showing any of it.
check_token() {
  local token=$1 source=$2
  [[ -n $token ]] || die "$EX_USAGE" "the install token from $source is empty; copy it again from the backend's console"
  if [[ $token == *"'"* || $token == *[[:cntrl:]]* ]]; then
    die "$EX_USAGE" "the install token from $source holds a quote, newline or control character; it must be the token alone, on one line"
  fi
}

# The first 12 hex digits of the token's SHA-256 (docs/protocol.md, Secrets). The token goes to sha256sum
# through a pipe from the printf builtin: never through an argument.
fingerprint() {
  local sum
  sum=$(builtin printf '%s' "$1" | sha256sum)
  printf '%s' "${sum:0:12}"
}

# --- the env file (docs/configuration.md, Grammar) -----------------------------------------

readonly ASSIGNMENT_RE='^(export[[:blank:]]+)?([A-Za-z_][A-Za-z0-9_]*)[[:blank:]]*='

# parse_env_line TEXT: reads one line as lib/config/envfile.ts does. Returns 0 for an active line,
# with $line_key, $line_value and $line_export set; 1 for a blank line or a comment; 2 for a line
# outside the grammar. Builtins only: a line may hold a token.
line_key='' line_value='' line_export=''
parse_env_line() {
  local body=$1 raw c i
  line_key='' line_value='' line_export=''
  body=${body%$'\r'}
  body=${body#"${body%%[![:blank:]]*}"}
  body=${body%"${body##*[![:blank:]]}"}
  [[ -n $body && $body != '#'* ]] || return 1
  [[ $body =~ $ASSIGNMENT_RE ]] || return 2
  line_export=${BASH_REMATCH[1]}
  line_key=${BASH_REMATCH[2]}
  raw=${body:${#BASH_REMATCH[0]}}
  raw=${raw#"${raw%%[![:blank:]]*}"}
  case $raw in
    "'"*)
      raw=${raw:1}
      [[ $raw == *"'" && ${raw%"'"} != *"'"* ]] || return 2
      line_value=${raw%"'"}
      ;;
    '"'*)
      for ((i = 1; i < ${#raw}; i++)); do
        c=${raw:i:1}
        if [[ $c == '"' ]]; then
          ((i == ${#raw} - 1)) || return 2
          return 0
        fi
        # As in POSIX shells, only \" and \\ are escapes; any other backslash is kept.
        if [[ $c == "\\" && (${raw:i+1:1} == '"' || ${raw:i+1:1} == "\\") ]]; then
          i=$((i + 1))
          c=${raw:i:1}
        fi
        line_value+=$c
      done
      return 2
      ;;
    *)
      [[ $raw != *[\'\"]* ]] || return 2
      line_value=$raw
      ;;
  esac
  return 0
}

# The last value of each active key in the config (the last one wins, as in the agent).
declare -gA file_values=()
conf_exists=0

# A regular file with one name: not a link that would lead root's chown or chmod elsewhere.
plain_file() { [[ -f $1 && ! -L $1 && $(stat -c %h -- "$1") == 1 ]]; }

# Reads $CONF into file_values; refuses a config the agent itself would refuse, and one that is
# not a plain file of its own (root must never follow a link the agent's user could have planted).
scan_conf() {
  local line number=0 size status
  file_values=()
  conf_exists=0
  [[ -e $CONF || -L $CONF ]] || return 0
  if [[ -L $CONF ]]; then
    die "$EX_CONFIG" "$CONF is a symbolic link; the installer only manages a regular file there: replace the link by the file it points to, then run install.sh again"
  fi
  [[ -f $CONF ]] || die "$EX_CONFIG" "$CONF is not a regular file; move it away, then run install.sh again"
  plain_file "$CONF" ||
    die "$EX_CONFIG" "$CONF has more than one hard link; replace it by a copy (cp -p, then mv), then run install.sh again"
  size=$(wc -c <"$CONF")
  ((size <= MAX_CONF_BYTES)) || die "$EX_CONFIG" "$CONF is over 64 KiB, which the agent refuses; shorten it, then run install.sh again"
  conf_exists=1
  while IFS= read -r line || [[ -n $line ]]; do
    number=$((number + 1))
    ((number > 1)) || line=${line#$'\xEF\xBB\xBF'} # a BOM is not part of the first key
    status=0
    parse_env_line "$line" || status=$?
    case $status in
      0) file_values[$line_key]=$line_value ;;
      2) die "$EX_CONFIG" "$CONF line $number is not KEY=value (optionally quoted); fix that line, then run install.sh again" ;;
    esac
  done <"$CONF"
}

# The agent treats an empty value as unset (lib/config/settings.ts mergeSettings).
conf_has() { [[ -n ${file_values[$1]-} ]]; }

# rewrite_conf: the text of $CONF with each key of `wanted` set, every other line kept byte for byte.
# The first active line of a wanted key is replaced (its `export ` and line ending kept) unless it
# already holds the value, later ones are dropped (the last one would win); missing keys are
# appended in the order of `wanted_order`. Keys in `dropped` lose their active lines. Sets
# $new_conf, and $conf_changed to 1 when the result reads differently from the file.
declare -gA wanted=() dropped=() done_keys=()
wanted_order=()
new_conf=
conf_changed=0
rewrite_conf() {
  local line number=0 status ending newline=$'\n' key
  done_keys=()
  new_conf=
  conf_changed=0
  if ((conf_exists)); then
    while IFS= read -r line || [[ -n $line ]]; do
      number=$((number + 1))
      ending=$newline
      [[ $line != *$'\r' ]] || ending=$'\r\n'
      status=0
      if ((number == 1)); then
        newline=$ending # appended lines use the file's own line ending
        parse_env_line "${line#$'\xEF\xBB\xBF'}" || status=$?
      else
        parse_env_line "$line" || status=$?
      fi
      if ((status == 0)) && [[ -n ${dropped[$line_key]-} ]]; then
        conf_changed=1
      elif ((status == 0)) && [[ -n ${wanted[$line_key]+set} ]]; then
        if [[ -n ${done_keys[$line_key]-} ]]; then
          conf_changed=1
        elif [[ $line_value == "${wanted[$line_key]}" ]]; then
          new_conf+=$line$'\n'
        else
          new_conf+="${line_export:+export }$line_key='${wanted[$line_key]}'$ending"
          conf_changed=1
        fi
        done_keys[$line_key]=1
      else
        new_conf+=$line$'\n'
      fi
    done <"$CONF"
  else
    new_conf="# RavenXcope sensor agent settings (docs/install.md); written by install.sh, keep it 0600.
# The agent replaces INSTALL_TOKEN with SENSOR_TOKEN once it has enrolled.
"
    conf_changed=1
  fi
  for key in "${wanted_order[@]}"; do
    [[ -n ${wanted[$key]+set} && -z ${done_keys[$key]-} ]] || continue
    new_conf+="$key='${wanted[$key]}'$newline"
    conf_changed=1
  done
}

# --- steps --------------------------------------------------------------------------------------

systemd_running() { [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; }

require_root() {
  [[ $EUID -eq 0 ]] || die "$EX_NOPERM" "run install.sh as root: sudo bash install.sh ..."
}

require_commands() {
  local name missing=()
  for name in "$@"; do command -v "$name" >/dev/null 2>&1 || missing+=("$name"); done
  ((${#missing[@]} == 0)) || die "$EX_FAIL" "missing commands: ${missing[*]}; install them (coreutils, util-linux, passwd), then run install.sh again"
}

# Where the install token comes from, in order: INSTALL_TOKEN, --install-token-file, the prompt.
# Needed only while the sensor is not enrolled. Sets $install_token (possibly empty: keep the one in
# the config) and $install_token_source.
obtain_install_token() {
  local has_old=$1 path=$token_file prompt
  if [[ -n $path ]]; then
    [[ -z $install_token ]] || die "$EX_USAGE" "the install token came both as INSTALL_TOKEN and with --install-token-file; give it one way"
    [[ -r $path && ! -d $path ]] || die "$EX_NOINPUT" "cannot read the install token file $path; check the path and its permissions"
    install_token=$(<"$path")
    install_token=${install_token%"${install_token##*[![:space:]]}"} # as the agent: trailing blanks go
    install_token_source="--install-token-file $path"
    check_token "$install_token" "$install_token_source" # asked for explicitly: empty is an error
    return 0
  elif [[ -z $install_token ]] && (exec </dev/tty) 2>/dev/null; then
    prompt="Install token for this sensor (input hidden): "
    ((has_old == 0)) || prompt="Install token for this sensor (input hidden; Enter keeps the one in $CONF): "
    # With -s and -p, bash turns echo off before it shows the prompt: what is typed after the prompt
    # appears is never echoed.
    IFS= read -rs -p "$prompt" install_token </dev/tty 2>/dev/tty || true
    printf '\n' >/dev/tty
    install_token=${install_token#"${install_token%%[![:space:]]*}"}
    install_token=${install_token%"${install_token##*[![:space:]]}"}
    install_token_source="the prompt"
    if [[ -z $install_token ]] && ((has_old)); then
      install_token_source=
      return 0
    fi
  fi
  if [[ -z $install_token ]]; then
    ((has_old)) && return 0
    die "$EX_USAGE" "no install token: set INSTALL_TOKEN in the environment (sudo --preserve-env=INSTALL_TOKEN), pass --install-token-file PATH, or run install.sh on a terminal to be asked"
  fi
  check_token "$install_token" "$install_token_source"
}

# Fetches the binary into a temporary file in $BIN_DIR, checks its checksum and that it is the
# agent, and sets $new_binary to it (or to nothing when it equals the installed one).
new_binary=
new_version=
fetch_binary() {
  local source=$1 temp actual old
  [[ -d $BIN_DIR ]] || install -d -m 0755 "$BIN_DIR" # an existing one keeps its mode
  make_temp "$BIN_DIR" sensor-agent
  temp=$made_temp
  if [[ $source =~ ^[Hh][Tt][Tt][Pp][Ss]?:// ]]; then
    say "downloading $source"
    if command -v curl >/dev/null 2>&1; then
      curl -fsSL --proto '=http,https' --proto-redir '=http,https' --retry 2 --connect-timeout 20 \
        --max-filesize 1073741824 -o "$temp" -- "$source" ||
        die "$EX_UNAVAILABLE" "could not download $source (curl exit $?); check the URL and the network, then run install.sh again"
    elif command -v wget >/dev/null 2>&1; then
      wget -q -O "$temp" -- "$source" ||
        die "$EX_UNAVAILABLE" "could not download $source (wget exit $?); check the URL and the network, then run install.sh again"
    else
      die "$EX_FAIL" "neither curl nor wget is installed; install one, or download the binary and pass --binary PATH"
    fi
  else
    [[ -f $source && -r $source ]] || die "$EX_NOINPUT" "the binary $source is not a readable file; check --binary"
    cp -- "$source" "$temp"
  fi
  actual=$(sha256sum <"$temp")
  actual=${actual%% *}
  if [[ -n $sha256 && $actual != "$sha256" ]]; then
    die "$EX_DATAERR" "the binary's SHA-256 is $actual, not the expected $sha256; nothing was installed: check --sha256 and --binary"
  fi
  chown 0:0 "$temp"
  chmod 0755 "$temp"
  # Catches a wrong architecture, an HTML error page or another program before anything changes.
  new_version=$(timeout 30 "$temp" --version 2>&1 </dev/null) || new_version="(exit $?) ${new_version:0:80}"
  new_version=${new_version%%$'\n'*}
  [[ $new_version =~ ^sensor-agent\ [0-9] ]] ||
    die "$EX_DATAERR" "$source is not the sensor agent: \`--version\` printed \"${new_version:0:80}\" instead of \"sensor-agent <version>\"; check --binary"
  new_binary=$temp
  if [[ -f $BIN ]]; then
    old=$(sha256sum <"$BIN")
    if [[ ${old%% *} == "$actual" ]]; then new_binary=; fi
  fi
}

ensure_user() {
  local shell
  if getent passwd "$AGENT_USER" >/dev/null; then return 0; fi
  for shell in /usr/sbin/nologin /sbin/nologin /bin/false; do [[ ! -x $shell ]] || break; done
  if command -v useradd >/dev/null 2>&1; then
    if getent group "$AGENT_USER" >/dev/null; then
      useradd --system --no-create-home --shell "$shell" --gid "$AGENT_USER" "$AGENT_USER"
    else
      useradd --system --no-create-home --shell "$shell" --user-group "$AGENT_USER"
    fi
  elif command -v adduser >/dev/null 2>&1; then
    adduser --system --no-create-home --shell "$shell" --group "$AGENT_USER" >/dev/null
  else
    die "$EX_FAIL" "neither useradd nor adduser is installed; install the passwd package, then run install.sh again"
  fi
  getent group "$AGENT_USER" >/dev/null ||
    die "$EX_FAIL" "user $AGENT_USER was created without a group $AGENT_USER; create the group (groupadd --system $AGENT_USER), then run install.sh again"
  say "created system user $AGENT_USER"
}

# Writes the config under the agent's own lock (lib/store/configlock.ts: `<config>.lock`), so an
# agent that is enrolling right now cannot lose its SENSOR_TOKEN to this rewrite, nor this rewrite
# to it. While root works in the directory it belongs to root: the agent's user owns it otherwise,
# and could swap an entry for a link to a file root would then chown or overwrite.
write_conf() {
  local lock_fd=''
  if [[ ! -d $CONF_DIR ]]; then mkdir -m 0700 -- "$CONF_DIR"; fi
  if [[ -f $CONF.lock && ! -L $CONF.lock ]]; then
    exec {lock_fd}<"$CONF.lock" # read-only: a flock needs no more, and nothing is created
    flock -w 120 "$lock_fd" ||
      die "$EX_FAIL" "$CONF.lock stayed locked for 2 minutes; stop the agent (systemctl stop $SERVICE), then run install.sh again"
  fi
  conf_dir_taken=1
  chown 0:0 "$CONF_DIR"
  chmod 0700 "$CONF_DIR"
  if ! plain_file "$CONF.lock"; then
    # Missing, or a link the agent's user made: only root can create one here now.
    if [[ -n $lock_fd ]]; then exec {lock_fd}>&-; fi
    rm -f -- "$CONF.lock"
    exec {lock_fd}>>"$CONF.lock"
    flock -n "$lock_fd"
  fi
  chown -h "$AGENT_USER:$AGENT_USER" "$CONF.lock" # the agent, as $AGENT_USER, opens it read-write
  chmod 0600 "$CONF.lock"

  scan_conf # again, under the lock: the agent may have enrolled since the first look
  if conf_has SENSOR_TOKEN; then
    unset 'wanted[INSTALL_TOKEN]'
    dropped=()
  fi
  rewrite_conf
  if ((conf_changed)); then
    make_temp "$CONF_DIR" sensor-agent.env
    builtin printf '%s' "$new_conf" >"$made_temp"
    sync -- "$made_temp"
    mv -fT -- "$made_temp" "$CONF"
    sync -- "$CONF_DIR"
    if ((conf_exists)); then say "updated $CONF"; else say "wrote $CONF"; fi
    changed=1
  else
    say "left $CONF unchanged"
  fi
  chown -h "$AGENT_USER:$AGENT_USER" "$CONF"
  chmod 0600 "$CONF"
  chown "$AGENT_USER:$AGENT_USER" "$CONF_DIR"
  conf_dir_taken=0
  exec {lock_fd}>&-
}

install_unit() {
  local source=$1
  if [[ -f $UNIT ]] && cmp -s -- "$source" "$UNIT"; then
    say "unit $UNIT unchanged"
    return 0
  fi
  [[ -d $UNIT_DIR ]] || install -d -m 0755 "$UNIT_DIR"
  make_temp "$UNIT_DIR" sensor-agent.service
  install -m 0644 -o 0 -g 0 -- "$source" "$made_temp"
  mv -fT -- "$made_temp" "$UNIT"
  say "installed $UNIT"
  changed=1
}

start_service() {
  if ! systemd_running; then
    say "systemd is not running here (no /run/systemd/system): not enabling or starting $SERVICE; on a systemd host run: systemctl daemon-reload && systemctl enable --now $SERVICE"
    return 0
  fi
  local advice="see: systemctl status $SERVICE; journalctl -u $SERVICE"
  systemctl daemon-reload || die "$EX_FAIL" "systemctl daemon-reload failed; $advice"
  if systemctl is-active --quiet "$SERVICE"; then
    # `enable --now` leaves a running agent on the old binary and config: restart it if they changed.
    systemctl enable --quiet "$SERVICE" || die "$EX_FAIL" "systemctl could not enable $SERVICE; $advice"
    if ((changed)); then
      systemctl restart "$SERVICE" || die "$EX_FAIL" "systemctl could not restart $SERVICE; $advice"
      say "restarted $SERVICE"
    else
      say "$SERVICE is running; nothing changed"
    fi
  else
    systemctl enable --now --quiet "$SERVICE" || die "$EX_FAIL" "systemctl could not enable and start $SERVICE; $advice"
    say "enabled and started $SERVICE"
  fi
}

# --- network drop-ins (docs/systemd.md, Network) -------------------------------------------------

# The host of an http(s) URL, without brackets or port: backend.example, 192.0.2.10, 2001:db8::1.
url_host() {
  local rest=${1#*://} hostport
  hostport=${rest%%/*}
  if [[ $hostport == \[* ]]; then
    hostport=${hostport#\[}
    printf '%s' "${hostport%%\]*}"
  else
    printf '%s' "${hostport%%:*}"
  fi
}

# An address as IPAddressAllow= takes it: a /32 or /128 prefix.
as_prefix() { if [[ $1 == *:* ]]; then printf '%s/128' "$1"; else printf '%s/32' "$1"; fi; }

# Sets $pin_host and $pin_addresses: the backend's host and every address the host's resolver
# (getent, the same nsswitch path the agent's connect takes) gives for it now.
pin_host='' pin_addresses=()
resolve_backend() {
  local url=$1 address
  pin_host=$(url_host "$url")
  pin_addresses=()
  if [[ $pin_host =~ ^[0-9]+(\.[0-9]+){3}$ || $pin_host == *:* ]]; then
    pin_addresses=("$pin_host")
    return 0
  fi
  while read -r address _; do
    [[ -n $address ]] && pin_addresses+=("$address")
  done < <(getent ahosts "$pin_host" || true)
  ((${#pin_addresses[@]} > 0)) ||
    die "$EX_UNAVAILABLE" "--pin-backend-address: $pin_host does not resolve on this host; fix its DNS entry (or use an address in --backend-url), then run install.sh again"
  # Each address once (getent lists one per socket type), in a stable order: the resolver's own
  # order may change between runs, the drop-in should not.
  mapfile -t pin_addresses < <(printf '%s\n' "${pin_addresses[@]}" | sort -u)
}

# The nameservers of /etc/resolv.conf that are not loopback (a local stub such as 127.0.0.53 is
# reached as localhost), zone suffixes dropped. Sets $resolvers.
resolvers=()
read_resolvers() {
  local key value rest
  resolvers=()
  [[ -r /etc/resolv.conf ]] || return 0
  while read -r key value rest; do
    [[ $key == nameserver && -n $value ]] || continue
    value=${value%%%*}
    case $value in 127.* | ::1) continue ;; esac
    resolvers+=("$value")
  done </etc/resolv.conf
}

# True when the unit's own IPAddressDeny= would cut this resolver off: link-local, or one of the
# metadata addresses where clouds also answer DNS (GCE 169.254.169.254, Azure 168.63.129.16).
resolver_denied_by_unit() {
  case $1 in
    169.254.* | 100.100.100.200 | 168.63.129.16) return 0 ;;
    [fF][eE][89aAbB]?:* | [fF][dD]00:[eE][cC]2:* | [fF][dD]20:[cC][eE]:* | [fF][dD]00:[cC]1:*) return 0 ;;
  esac
  return 1
}

# write_dropin PATH TEXT: installs TEXT as a root-owned 0644 drop-in, unless it already reads so.
write_dropin() {
  local path=$1 text=$2
  if [[ -f $path ]] && [[ $(<"$path") == "${text%$'\n'}" ]]; then return 0; fi
  [[ -d $DROPIN_DIR ]] || install -d -m 0755 -o 0 -g 0 "$DROPIN_DIR"
  make_temp "$DROPIN_DIR" "${path##*/}"
  builtin printf '%s' "$text" >"$made_temp"
  chown 0:0 "$made_temp"
  chmod 0644 "$made_temp"
  mv -fT -- "$made_temp" "$path"
  say "wrote $path"
  changed=1
}

remove_dropin() {
  [[ -e $1 ]] || return 0
  rm -f -- "$1"
  say "removed $1"
  changed=1
}

# The pin (when asked for), then the resolver drop-in: every non-loopback resolver while pinned
# (IPAddressDeny=any cuts them all off), else only those the unit's own list cuts off.
write_network_dropins() {
  local pinned=0 prefixes=() address text
  if ((pin_backend)); then
    for address in "${pin_addresses[@]}"; do prefixes+=("$(as_prefix "$address")"); done
    text="# Written by install.sh --pin-backend-address: the agent may reach only its backend, the DNS
# resolver and loopback; the kernel drops everything else. When the backend's addresses change,
# \`sensor-agent status --check\` says so: run install.sh --pin-backend-address again.
# backend: $pin_host
[Service]
IPAddressDeny=any
IPAddressAllow=localhost
IPAddressAllow=${prefixes[*]}
"
    write_dropin "$PIN" "$text"
    say "pinned the backend $pin_host to ${pin_addresses[*]}"
  fi
  [[ -f $PIN ]] && pinned=1
  prefixes=()
  read_resolvers
  for address in "${resolvers[@]}"; do
    if ((pinned)) || resolver_denied_by_unit "$address"; then prefixes+=("$(as_prefix "$address")"); fi
  done
  if ((${#prefixes[@]} == 0)); then
    remove_dropin "$RESOLVER_DROPIN"
    return 0
  fi
  text="# Written by install.sh: the DNS resolvers of /etc/resolv.conf that the unit's IPAddressDeny=
# (or the backend-address pin) would cut off. Run install.sh again after changing resolvers.
[Service]
IPAddressAllow=${prefixes[*]}
"
  write_dropin "$RESOLVER_DROPIN" "$text"
}

# A proxy in the unit's environment is what the agent connects to: the backend's addresses would
# be the wrong pin.
refuse_pin_with_proxy() {
  local file
  for file in "$UNIT" "$DROPIN_DIR"/*.conf; do
    [[ -f $file ]] || continue
    if grep -qE '^[[:space:]]*Environment=.*([Hh][Tt][Tt][Pp][Ss]?_[Pp][Rr][Oo][Xx][Yy])=' -- "$file"; then
      die "$EX_USAGE" "--pin-backend-address: $file sets a proxy, which is what the agent connects to; write the drop-in by hand with the proxy's address (docs/systemd.md, Network)"
    fi
  done
}

# --- install and uninstall ----------------------------------------------------------------------

install_agent() {
  local unit_source enrolled=0 has_old_token=0
  unit_source=${unit_path:-$(dirname -- "$0")/sensor-agent.service}
  if [[ -z $unit_path && ! -e $unit_source && -f $UNIT ]]; then
    unit_source='' # a re-run from elsewhere: the installed unit stays
  elif [[ ! -f $unit_source || ! -r $unit_source ]]; then
    die "$EX_NOINPUT" "no unit file at $unit_source; put sensor-agent.service beside install.sh or pass --unit PATH"
  fi
  if [[ $binary =~ ^[Hh][Tt][Tt][Pp][Ss]?:// && -z $sha256 ]] && ((!insecure)); then
    die "$EX_USAGE" "--binary is a URL but no --sha256 was given; pass the SHA-256 the backend shows (or --insecure-no-checksum to install an unchecked download)"
  fi
  [[ -n $binary || -f $BIN ]] || die "$EX_USAGE" "$BIN is not installed yet: pass --binary PATH|URL"
  require_commands install mktemp sha256sum cmp timeout getent chown chmod mv sync wc stat flock sort

  scan_conf
  conf_has SENSOR_TOKEN && enrolled=1
  [[ -n $backend_url ]] || conf_has BACKEND_URL ||
    die "$EX_USAGE" "$CONF has no BACKEND_URL yet: pass --backend-url URL (the backend this sensor reports to)"
  if ((enrolled)); then
    if [[ -n $install_token || -n $token_file ]]; then
      say "this sensor is already enrolled (SENSOR_TOKEN in $CONF): the install token given is not used; to enroll again run: sensor-agent enroll --force with INSTALL_TOKEN set"
    fi
    install_token=
  else
    if conf_has INSTALL_TOKEN || conf_has INSTALL_TOKEN_FILE; then has_old_token=1; fi
    obtain_install_token "$has_old_token"
    if [[ -n $install_token ]]; then
      say "install token: from $install_token_source, fingerprint $(fingerprint "$install_token")"
    else
      say "not enrolled yet: keeping the install token already in $CONF"
    fi
  fi

  if ((pin_backend)); then
    refuse_pin_with_proxy
    resolve_backend "${backend_url:-${file_values[BACKEND_URL]}}"
  fi

  # Everything above only looked; from here on the host changes.
  changed=0
  if [[ -n $binary ]]; then
    fetch_binary "$binary"
  fi
  ensure_user

  wanted=() dropped=() wanted_order=()
  if [[ -n $backend_url ]]; then wanted[BACKEND_URL]=$backend_url wanted_order+=(BACKEND_URL); fi
  if ((sensor_id_set)); then wanted[SENSOR_ID]=$sensor_id wanted_order+=(SENSOR_ID); fi
  if [[ -n $sensor_port ]]; then wanted[SENSOR_PORT]=$sensor_port wanted_order+=(SENSOR_PORT); fi
  if [[ -n $install_token ]]; then
    wanted[INSTALL_TOKEN]=$install_token wanted_order+=(INSTALL_TOKEN)
    dropped[INSTALL_TOKEN_FILE]=1 # the agent refuses both at once
  fi
  write_conf
  if [[ -n $unit_source ]]; then
    install_unit "$unit_source"
  else
    say "no sensor-agent.service beside install.sh: kept the installed $UNIT"
  fi
  write_network_dropins
  if [[ -n $new_binary ]]; then
    mv -fT -- "$new_binary" "$BIN"
    say "installed $BIN ($new_version)"
    changed=1
  elif [[ -n $binary ]]; then
    say "$BIN is already this binary ($new_version)"
  fi
  start_service
  if ((enrolled)); then
    say "done: upgrade finished; the sensor keeps its SENSOR_TOKEN"
  else
    say "done: the agent enrolls on start; check it with: systemctl status $SERVICE; journalctl -u $SERVICE"
  fi
}

uninstall_agent() {
  require_commands rm getent
  if systemd_running; then
    if [[ -f $UNIT ]] || systemctl cat "$SERVICE" >/dev/null 2>&1; then
      systemctl disable --now --quiet "$SERVICE" || warn "systemctl disable --now $SERVICE failed; check: systemctl status $SERVICE"
    fi
  else
    say "systemd is not running here (no /run/systemd/system): nothing to stop or disable"
  fi
  if [[ -e $UNIT ]]; then say "removing $UNIT"; fi
  # Also the links an offline `systemctl enable` may have left where systemd is not running.
  rm -f -- "$UNIT" "$UNIT_DIR"/*.wants/sensor-agent.service "$PIN" "$RESOLVER_DROPIN"
  if [[ -d $DROPIN_DIR ]]; then rmdir -- "$DROPIN_DIR" 2>/dev/null || true; fi # others' drop-ins stay
  if systemd_running; then
    systemctl daemon-reload
    systemctl reset-failed "$SERVICE" >/dev/null 2>&1 || true
  fi
  if [[ -e $BIN ]]; then say "removing $BIN"; fi
  rm -f -- "$BIN" "$BIN_DIR"/.sensor-agent.??????
  if ((remove_user)) && getent passwd "$AGENT_USER" >/dev/null; then
    # The kept config must not stay owned by a uid the system may give to the next new user.
    if [[ -d $CONF_DIR ]]; then chown -R 0:0 "$CONF_DIR"; fi
    if command -v userdel >/dev/null 2>&1; then
      userdel "$AGENT_USER" ||
        die "$EX_FAIL" "userdel $AGENT_USER failed (a process may still run as $AGENT_USER); stop it, then run install.sh --uninstall --remove-user again"
      if getent group "$AGENT_USER" >/dev/null && command -v groupdel >/dev/null 2>&1; then
        groupdel "$AGENT_USER"
      fi
    else
      deluser --system "$AGENT_USER" >/dev/null
    fi
    say "removed user $AGENT_USER; $CONF_DIR now belongs to root"
  elif ((!remove_user)) && getent passwd "$AGENT_USER" >/dev/null; then
    say "kept user $AGENT_USER (it owns $CONF_DIR); --remove-user removes it"
  fi
  if [[ -d $CONF_DIR ]]; then
    say "kept $CONF_DIR: $CONF holds this sensor's token and a reinstall reuses it; delete the directory once the sensor is removed from the backend"
  fi
  say "done: the sensor agent is uninstalled"
}

# --- command line -------------------------------------------------------------------------------

backend_url='' sensor_id='' sensor_id_set=0 sensor_port='' binary='' sha256='' insecure=0
unit_path='' token_file='' uninstall=0 remove_user=0 pin_backend=0 install_flags=()
argument_number=0
while (($# > 0)); do
  argument_number=$((argument_number + 1))
  option=$1 value='' has_value=0
  case $option in
    --*=*) value=${option#*=} option=${option%%=*} has_value=1 ;;
  esac
  case $option in
    --install-token-file) ;;
    --*token | --*token-value)
      # Never echo what follows: it is the secret this rule protects.
      die "$EX_USAGE" "$option is refused: a token on the command line is readable by every local user (ps, /proc/<pid>/cmdline) and stays in shell history; use INSTALL_TOKEN in the environment, --install-token-file PATH, or the prompt"
      ;;
  esac
  case $option in
    --backend-url | --sensor-id | --sensor-port | --binary | --sha256 | --unit | --install-token-file)
      if ((!has_value)); then
        (($# >= 2)) || die "$EX_USAGE" "$option needs a value; see install.sh --help"
        value=$2
        shift
      fi
      [[ -n $value || $option == --sensor-id ]] || die "$EX_USAGE" "$option needs a value; see install.sh --help"
      ;;
    *) ((!has_value)) || die "$EX_USAGE" "$option takes no value; see install.sh --help" ;;
  esac
  case $option in
    -h | --help)
      usage
      exit 0
      ;;
    --backend-url) backend_url=$value ;;
    --sensor-id) sensor_id=$value sensor_id_set=1 ;;
    --sensor-port) sensor_port=$value ;;
    --binary) binary=$value ;;
    --sha256) sha256=${value,,} ;;
    --insecure-no-checksum) insecure=1 ;;
    --unit) unit_path=$value ;;
    --install-token-file) token_file=$value ;;
    --uninstall) uninstall=1 ;;
    --remove-user) remove_user=1 ;;
    --pin-backend-address) pin_backend=1 ;;
    -*)
      # An option is named only when it looks like one: a pasted secret is not repeated.
      [[ $option =~ ^--?[a-z][a-z0-9-]{0,30}$ ]] || option="number $argument_number (not shown)"
      die "$EX_USAGE" "unknown option $option; see install.sh --help"
      ;;
    *) die "$EX_USAGE" "unexpected argument number $argument_number (not shown, in case it is a secret); options start with --; see install.sh --help" ;;
  esac
  case $option in
    --uninstall | --remove-user) ;;
    *) install_flags+=("$option") ;;
  esac
  shift
done

if ((uninstall)); then
  ((${#install_flags[@]} == 0)) || die "$EX_USAGE" "--uninstall takes no ${install_flags[0]}; run it as: install.sh --uninstall [--remove-user]"
  install_token=
  require_root
  uninstall_agent
  exit 0
fi
((!remove_user)) || die "$EX_USAGE" "--remove-user goes with --uninstall only"
if [[ -n $backend_url ]]; then
  check_backend_url "$backend_url"
  [[ ! $backend_url =~ ^[Hh][Tt][Tt][Pp]:// ]] || warn "--backend-url uses http://: tokens travel unencrypted; use https:// outside a lab"
fi
if ((sensor_id_set)); then check_env_value "--sensor-id" "$sensor_id"; fi
if [[ -n $sensor_port ]]; then check_port "$sensor_port"; fi
if [[ -n $sha256 && ! $sha256 =~ ^[0-9a-f]{64}$ ]]; then
  die "$EX_USAGE" "--sha256 must be 64 hex digits (sha256sum prints them)"
fi
[[ -z $sha256 || -n $binary ]] || die "$EX_USAGE" "--sha256 goes with --binary"
if [[ -n $binary && ! $binary =~ ^[Hh][Tt][Tt][Pp][Ss]?:// && $binary == *://* ]]; then
  die "$EX_USAGE" "--binary must be a local path or an http(s) URL"
fi
require_root
install_agent
