import { PYTHON_SCENARIO, sdkSuite, VENV_PYTHON } from '../compat/sdk-suite.js';

// Issue 10: the Docker SDK for Python (pip package docker, in the .venv that
// scripts/setup.sh makes) against berthd, observed and answered as by dockerd 20.10.

sdkSuite({
  name: 'the Docker SDK for Python',
  fixture: 'sdk-python.json',
  argv: (socket, version, tar) => [VENV_PYTHON, PYTHON_SCENARIO, socket, version, tar],
  needs: { path: VENV_PYTHON, hint: 'bash scripts/setup.sh makes the venv with the Docker SDK for Python' },
});
