# Sourced by scripts/record-reference.sh inside its lab world, with dockerd 20.10 running:
# D (the docker CLI on its socket), SOCK, WORK, OUT, ROOT, get (GET → OUT/file) are set;
# the seed objects (image bb, network my_net1, containers vm1, d1) exist.
# Records: the Docker SDK scenarios (sdk-python.json, sdk-dockerode.json).
# They start from a daemon without the seed containers, as the berth side does.
D rm -f vm1 d1 >/dev/null
# sdk-python.json: test/compat/sdk_scenario.py (the Docker SDK for Python, in the venv that
# scripts/setup.sh makes) at API 1.41; sdk-dockerode.json: dist/test/compat/dockerode-scenario.js
# (npm run build first). Each holds what the scenario observed and the raw answers of its
# requests; test/integration/compat-sdk-*.test.ts run the same scenarios against berthd.
sdk() { "$@" > "$WORK/sdk.json" && jq -S . "$WORK/sdk.json" > "$OUT/$SDK_OUT" && echo "recorded $SDK_OUT"; }
if [[ -x $ROOT/.venv/bin/python ]]; then
  SDK_OUT=sdk-python.json sdk "$ROOT/.venv/bin/python" "$ROOT/test/compat/sdk_scenario.py" "$SOCK" 1.41 "$WORK/bb.tar"
else
  echo "record-reference: no $ROOT/.venv (scripts/setup.sh): sdk-python.json not recorded" >&2
fi
if [[ -f $ROOT/dist/test/compat/dockerode-scenario.js ]]; then
  SDK_OUT=sdk-dockerode.json sdk node "$ROOT/dist/test/compat/dockerode-scenario.js" "$SOCK" v1.41 "$WORK/bb.tar"
else
  echo "record-reference: no dist/ (npm run build): sdk-dockerode.json not recorded" >&2
fi
