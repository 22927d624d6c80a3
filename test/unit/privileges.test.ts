// A container's capabilities and no_new_privs from HostConfig, as dockerd computes them
// (oci/caps TweakCapabilities, parseSecurityOpt), and the mask the shim is given.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allCapabilities, capabilitiesOf, capabilityMask, DEFAULT_CAPABILITIES } from '../../src/runtime/capabilities.js';
import { checkPrivileges, privilegesOf } from '../../src/runtime/privileges.js';

test('the default set is Docker\'s, as the mask docker run shows (CapEff 00000000a80425fb)', () => {
  assert.deepEqual(capabilitiesOf({}), [...DEFAULT_CAPABILITIES]);
  assert.equal(capabilityMask(capabilitiesOf({})), 'a80425fb');
  assert.deepEqual(privilegesOf({}), { capabilities: [...DEFAULT_CAPABILITIES], noNewPrivileges: true });
});

test('names are taken with or without CAP_, in any case; ALL adds or drops everything', () => {
  assert.ok(capabilitiesOf({ capAdd: ['net_admin'] }).includes('CAP_NET_ADMIN'));
  assert.ok(capabilitiesOf({ capAdd: ['Cap_Sys_Time'] }).includes('CAP_SYS_TIME'));
  assert.ok(!capabilitiesOf({ capDrop: ['NET_RAW'] }).includes('CAP_NET_RAW'));
  assert.deepEqual(capabilitiesOf({ capDrop: ['all'], capAdd: ['chown', 'CAP_CHOWN'] }), ['CAP_CHOWN']);
  assert.deepEqual(capabilitiesOf({ capAdd: ['ALL'], capDrop: ['chown'] }), allCapabilities().filter((c) => c !== 'CAP_CHOWN'));
  assert.deepEqual(capabilitiesOf({ privileged: true, capDrop: ['ALL'] }), allCapabilities(), 'privileged wins, as dockerd');
  assert.equal(capabilityMask(['CAP_CHOWN', 'CAP_NET_ADMIN']), '1001');
});

test('an unknown capability is refused with dockerd\'s words', () => {
  assert.throws(() => checkPrivileges({ capAdd: ['foo'] }), { status: 400, message: 'invalid CapAdd: unknown capability: "CAP_FOO"' });
  assert.throws(() => checkPrivileges({ capDrop: ['CAP_BAR'] }), { status: 400, message: 'invalid CapDrop: unknown capability: "CAP_BAR"' });
});

test('no_new_privs: on unless privileged; --security-opt no-new-privileges[=BOOL] decides', () => {
  assert.equal(privilegesOf({ privileged: true }).noNewPrivileges, false);
  assert.equal(privilegesOf({ securityOpt: ['no-new-privileges=false'] }).noNewPrivileges, false);
  assert.equal(privilegesOf({ securityOpt: ['no-new-privileges:false'] }).noNewPrivileges, false, 'the old KEY:VALUE form');
  assert.equal(privilegesOf({ privileged: true, securityOpt: ['no-new-privileges'] }).noNewPrivileges, true);
  assert.equal(privilegesOf({ securityOpt: ['apparmor=unconfined', 'label=disable', 'seccomp=unconfined'] }).noNewPrivileges, true);
  assert.deepEqual(privilegesOf({}, true).capabilities, allCapabilities(), 'an exec --privileged gets every capability');
  assert.throws(() => checkPrivileges({ securityOpt: ['nonsense'] }), { status: 400, message: 'invalid --security-opt 1: "nonsense"' });
  assert.throws(() => checkPrivileges({ securityOpt: ['no-new-privileges=maybe'] }), { status: 400, message: 'invalid --security-opt 2: "no-new-privileges=maybe"' });
  assert.throws(() => checkPrivileges({ securityOpt: ['foo=bar'] }), { status: 400, message: 'invalid --security-opt 2: "foo=bar"' });
  assert.throws(() => checkPrivileges({ securityOpt: ['seccomp={}'] }), { status: 400, message: /no seccomp filter/ });
});
