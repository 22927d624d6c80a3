# Sourced by scripts/record-reference.sh inside its lab world, with dockerd 20.10 running:
# D (the docker CLI on its socket), SOCK, WORK, OUT, ROOT, get (GET → OUT/file) are set;
# the seed objects (image bb, network my_net1, containers vm1, d1) exist.
# Records: HostConfig.PidMode and what a container sees in /dev.
# What dockerd answers for PidMode at create and start, and the /dev a container gets,
# with and without a tty. Container ids in messages are written as <id>.
req() { # METHOD PATH [BODY] -> {"status": N, "body": <JSON or text>}
  local out
  out=$(curl -s -w '\n%{http_code}' --unix-socket "$SOCK" -X "$1" -H 'Content-Type: application/json' ${3:+-d "$3"} "http://docker/v1.41$2")
  jq -n --argjson s "${out##*$'\n'}" --arg b "${out%$'\n'*}" '{status: $s, body: ($b | fromjson? // $b)}'
}
STOPPED=$(D create --name pidstopped bb true)
D create --name pidjoiner --pid container:pidstopped bb true >/dev/null
{
  echo '{"createBogus":'; req POST /containers/create '{"Image":"bb","Cmd":["true"],"HostConfig":{"PidMode":"bogus"}}' | jq '{status}'
  echo ',"createMissing":'; req POST /containers/create '{"Image":"bb","Cmd":["true"],"HostConfig":{"PidMode":"container:nosuch"}}'
  echo ',"startStopped":'; req POST /containers/pidjoiner/start
  echo ',"pidModeKept":'; D inspect -f '{{json .HostConfig.PidMode}}' pidjoiner
  D rm pidstopped >/dev/null
  echo ',"startRemoved":'; req POST /containers/pidjoiner/start
  echo ',"dev":'; D run --rm bb ls -1 /dev | jq -R . | jq -s .
  echo ',"devTty":'; D run --rm -t bb ls -1 /dev | tr -d '\r' | jq -R . | jq -s .
  echo '}'
} | sed "s/$STOPPED/<id>/g" | jq -S . > "$OUT/pid-mode.json"
D rm -f pidjoiner >/dev/null
echo "recorded pid-mode.json"
