import { InvalidParameterError } from '../util/errors.js';
import { capabilitiesOf, checkCapabilities, type CapabilityRequest } from './capabilities.js';

// What a container's processes may do: their capabilities (capabilities.ts) and
// no_new_privs, from HostConfig's CapAdd, CapDrop, Privileged and SecurityOpt.

export interface PrivilegeRequest extends CapabilityRequest {
  securityOpt?: readonly string[] | null;
}

export interface ProcessPrivileges {
  /** capability names (CAP_…) the process keeps: bounding, permitted and effective */
  capabilities: string[];
  /** PR_SET_NO_NEW_PRIVS: no exec (setuid, file capabilities) gains a privilege */
  noNewPrivileges: boolean;
}

/** Go's strconv.ParseBool, which dockerd reads no-new-privileges=VALUE with. */
function goBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/**
 * --security-opt, read as dockerd's parseSecurityOpt: KEY=VALUE (or the old KEY:VALUE).
 * Returns the no-new-privileges choice (undefined: none made). berth has no SELinux and no
 * AppArmor, so label and apparmor ask nothing of it (dockerd ignores them on such a host);
 * it has no seccomp filter either, so a custom seccomp profile is refused, not ignored.
 */
function noNewPrivilegesOpt(opts: readonly string[]): boolean | undefined {
  let choice: boolean | undefined;
  for (const opt of opts) {
    if (opt === 'no-new-privileges') { choice = true; continue; }
    if (opt === 'disable') continue;
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : undefined;
    if (!sep) throw new InvalidParameterError(`invalid --security-opt 1: ${JSON.stringify(opt)}`);
    const key = opt.slice(0, opt.indexOf(sep));
    const value = opt.slice(opt.indexOf(sep) + 1);
    if (key === 'label' || key === 'apparmor') continue;
    if (key === 'seccomp') {
      if (value !== 'unconfined') throw new InvalidParameterError('berth applies no seccomp filter and cannot run a custom seccomp profile (only seccomp=unconfined)');
      continue;
    }
    const nnp = key === 'no-new-privileges' ? goBool(value) : undefined;
    if (nnp === undefined) throw new InvalidParameterError(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
    choice = nnp;
  }
  return choice;
}

/** Refuses what dockerd refuses at create: an unknown capability, a malformed --security-opt. */
export function checkPrivileges(req: PrivilegeRequest): void {
  checkCapabilities(req);
  noNewPrivilegesOpt(req.securityOpt ?? []);
}

/**
 * The container process's privileges; an exec's are the container's, with every
 * capability when the exec is privileged (ExecConfig.Privileged, as dockerd).
 * no_new_privs is on unless the container is privileged or says no-new-privileges=false:
 * dockerd sets it only when asked (--security-opt no-new-privileges); berth does by
 * default, as issue 12 asks, since nothing a container runs needs to gain privileges by
 * exec (it runs as root already).
 */
export function privilegesOf(req: PrivilegeRequest, execPrivileged = false): ProcessPrivileges {
  const chosen = noNewPrivilegesOpt(req.securityOpt ?? []);
  return {
    capabilities: capabilitiesOf({ ...req, privileged: req.privileged || execPrivileged }),
    noNewPrivileges: chosen ?? !req.privileged,
  };
}
