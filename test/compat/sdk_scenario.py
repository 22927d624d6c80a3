"""The Docker SDK for Python's scenario of the compatibility suite (issue 10).

Usage: python sdk_scenario.py SOCKET API_VERSION ROOTFS_TAR

Drives a daemon (berthd, or dockerd 20.10 in scripts/record-reference.sh) the way SDK users
and test fixtures do: import an image, a network lifecycle with IPAM config, labels and
options, containers with a published port, links, aliases, connect/disconnect with static
IPs, and the clean-up paths (label-filtered list, remove(force=True, v=True), prune with
filters, swarm probes, close). Prints one JSON object on stdout:
  observed  what the scenario saw, free of ids and times, so two daemons compare with ==
  answers   the raw JSON answers of the requests, for the key-by-key shape comparison
An API error never stops the scenario: the step records {"error": status, "message": ...}.
API_VERSION is "auto" (the SDK's default: the server's version) or e.g. "1.41".
"""
import json
import re
import sys
import time
import urllib.request

import docker
from docker.errors import APIError
from docker.types import EndpointConfig, IPAMConfig, IPAMPool

SOCKET, API_VERSION, ROOTFS_TAR = sys.argv[1:4]
LABEL = 'berth.sdk=python'
HOST_PORT = 18080
PAGE = 'sdk-page'

observed = {}
answers = {}


def error_of(e):
    # container and network ids in messages vary between runs: masked
    message = re.sub(r'\b[0-9a-f]{64}\b', '<id>', e.explanation or '')
    return {'error': e.response.status_code if e.response is not None else None, 'message': message}


def step(name, fn, record=None):
    """Runs one step; its value (or its API error) goes into observed[name]."""
    try:
        value = fn()
    except APIError as e:
        value = error_of(e)
    except Exception as e:  # a client-side failure is an observation too
        value = {'exception': type(e).__name__, 'message': str(e)}
    observed[name] = value
    if record:
        answers[record] = value
    return value


def answer(name, fn):
    """Records a raw answer for the shape comparison (errors as in step)."""
    try:
        answers[name] = fn()
    except APIError as e:
        answers[name] = error_of(e)


def exec_out(container, argv):
    code, out = container.exec_run(argv)
    return {'code': code, 'out': out.decode('utf8', 'replace').strip()}


def first_line(container, argv):
    r = exec_out(container, argv)
    return {'code': r['code'], 'line': r['out'].split('\n')[0]}


def ipv4_addrs(container):
    out = exec_out(container, ['ip', '-o', '-4', 'addr', 'show'])['out']
    return sorted(line.split()[3] for line in out.split('\n') if ' inet ' in line and not line.split()[1] == 'lo')


def fetch_page(url, attempts=50):
    """The published port from the host; httpd may need a moment to listen."""
    last = None
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=3) as r:
                return r.read().decode().strip()
        except OSError as e:
            last = e
            time.sleep(0.2)
    return {'exception': type(last).__name__, 'message': str(last)}


client = docker.DockerClient(base_url=f'unix://{SOCKET}', version=API_VERSION, timeout=120)
api = client.api


def scenario():
    # other blocks of the recording leave networks and containers behind: only ours count
    names = lambda objs: sorted(o.name for o in objs if o.name.startswith('sdk_'))

    # ---- the daemon, as fixtures probe it ----
    step('ping', client.ping)
    step('info_swarm_state', lambda: client.info()['Swarm']['LocalNodeState'])
    answer('info-swarm', lambda: client.info()['Swarm'])
    # client.swarm reloads GET /swarm: a 503 (not part of a swarm) is swallowed, a 404 raises
    step('swarm_attrs', lambda: client.swarm.attrs)
    answer('swarm-inspect', api.inspect_swarm)
    step('swarm_leave_force', lambda: api.leave_swarm(force=True))

    # ---- the image: a rootfs import, as `docker import` does ----
    def import_image():
        lines = api.import_image_from_file(ROOTFS_TAR, repository='sdkbb', tag='latest', changes=['ENV PATH=/bin', 'CMD ["/bin/sh"]'])
        answers['image-import'] = [json.loads(line) for line in lines.strip().split('\n')]
        img = client.images.get('sdkbb')
        return {'tags': img.tags, 'cmd': img.attrs['Config']['Cmd'], 'env': img.attrs['Config']['Env']}

    step('image_import', import_image)

    # ---- the network lifecycle ----
    front_ipam = IPAMConfig(pool_configs=[IPAMPool(subnet='10.77.0.0/24', iprange='10.77.0.128/25', gateway='10.77.0.1', aux_addresses={'reserved': '10.77.0.5'})])
    back_ipam = IPAMConfig(pool_configs=[IPAMPool(subnet='10.78.0.0/24')])

    def create_front():
        # what client.networks.create does, with the create answer kept
        answers['network-create'] = api.create_network('sdk_front', driver='bridge', ipam=front_ipam, labels={'berth.sdk': 'python', 'role': 'front'},
                                                      options={'com.docker.network.bridge.enable_icc': 'true'}, attachable=True)
        net = client.networks.get('sdk_front')
        return {'name': net.name, 'labels': net.attrs['Labels'], 'options': net.attrs['Options'], 'ipam': net.attrs['IPAM'], 'attachable': net.attrs['Attachable']}

    step('network_create', create_front)
    step('network_create_back', lambda: client.networks.create('sdk_back', driver='bridge', ipam=back_ipam, labels={'berth.sdk': 'python', 'role': 'back'}).name)
    step('network_create_keep', lambda: client.networks.create('sdk_keep', labels={'berth.keep': '1'}).name)
    step('network_create_duplicate', lambda: client.networks.create('sdk_front', check_duplicate=True).name)

    def create_and_remove():
        client.networks.create('sdk_gone', labels={'berth.sdk': 'python'}).remove()
        return names(client.networks.list(names=['sdk_gone']))

    step('network_remove', create_and_remove)
    answer('network-inspect-empty', lambda: api.inspect_network('sdk_front'))
    step('network_list_label', lambda: names(client.networks.list(filters={'label': LABEL})))
    step('network_list_label_value', lambda: names(client.networks.list(filters={'label': 'role=front'})))
    step('network_list_labels_all_match', lambda: names(client.networks.list(filters={'label': [LABEL, 'role=back']})))
    step('network_list_driver_custom', lambda: names(client.networks.list(filters={'driver': 'bridge', 'type': 'custom'})))
    step('network_list_names', lambda: names(client.networks.list(names=['sdk_front', 'sdk_keep'])))
    step('network_list_nothing', lambda: names(client.networks.list(filters={'label': 'berth.sdk=nobody'})))
    step('network_list_unknown_filter', lambda: names(client.networks.list(filters={'colour': 'blue'})))
    answer('network-list-label', lambda: sorted(api.networks(filters={'label': LABEL}), key=lambda n: n['Name']))

    # ---- containers: a published port, aliases, links, static IPs ----
    web_cmd = ['sh', '-c', f'mkdir -p /www && echo {PAGE} > /www/index.html && exec httpd -f -p 80 -h /www']

    def run_web():
        c = client.containers.run('sdkbb', web_cmd, name='sdk_web', detach=True, network='sdk_front', ports={'80/tcp': HOST_PORT}, labels={'berth.sdk': 'python'})
        c.reload()
        return {'status': c.status, 'host_port': c.ports['80/tcp'][0]['HostPort'], 'labels': c.labels}

    step('container_run_web', run_web)
    # container.image: the SDK looks the image up by the id in the container's attrs
    step('container_image', lambda: client.containers.get('sdk_web').image.tags)
    step('published_port_page', lambda: fetch_page(f'http://127.0.0.1:{HOST_PORT}/index.html'))

    def run_db():
        c = client.containers.run('sdkbb', ['sleep', '3600'], name='sdk_db', detach=True, network='sdk_front', labels={'berth.sdk': 'python'},
                                  networking_config={'sdk_front': EndpointConfig(api.api_version, aliases=['database'], ipv4_address='10.77.0.200')})
        c.reload()
        return {'ip': c.attrs['NetworkSettings']['Networks']['sdk_front']['IPAddress'], 'aliases_include_database': 'database' in (c.attrs['NetworkSettings']['Networks']['sdk_front']['Aliases'] or [])}

    step('container_run_db_static_alias', run_db)
    web = client.containers.get('sdk_web')
    db = client.containers.get('sdk_db')
    step('alias_resolves_from_peer', lambda: first_line(web, ['ping', '-c1', '-W2', 'database']))

    # links on a user network live on the endpoint (what `docker run --link` sends there)
    def run_linked():
        c = client.containers.run('sdkbb', ['sleep', '3600'], name='sdk_linked', detach=True, network='sdk_front', labels={'berth.sdk': 'python'},
                                  networking_config={'sdk_front': EndpointConfig(api.api_version, links={'sdk_db': 'dblink'})})
        c.reload()
        return {'links': c.attrs['HostConfig']['Links'], 'endpoint_links': c.attrs['NetworkSettings']['Networks']['sdk_front']['Links']}

    step('container_run_linked', run_linked)
    step('link_alias_resolves', lambda: first_line(client.containers.get('sdk_linked'), ['ping', '-c1', '-W2', 'dblink']))
    step('link_alias_private_to_linker', lambda: exec_out(web, ['ping', '-c1', '-W2', 'dblink'])['code'] != 0)

    # containers.run(links=...) on a user network: the SDK sends HostConfig.Links only
    def hostconfig_links():
        c = client.containers.run('sdkbb', ['sleep', '3600'], name='sdk_hclinked', detach=True, network='sdk_front', links={'sdk_db': 'hclink'}, labels={'berth.sdk': 'python'})
        return first_line(c, ['ping', '-c1', '-W2', 'hclink'])['code']

    step('hostconfig_links_on_user_network', hostconfig_links)

    def legacy_links():
        client.containers.run('sdkbb', ['sleep', '3600'], name='sdk_legacy_target', detach=True, labels={'berth.sdk': 'python'})
        c = client.containers.run('sdkbb', ['sleep', '3600'], name='sdk_legacy', detach=True, links={'sdk_legacy_target': 'oldlink'}, labels={'berth.sdk': 'python'})
        hosts = exec_out(c, ['cat', '/etc/hosts'])['out']
        return {'hosts_has_alias': any('oldlink' in line.split()[1:] for line in hosts.split('\n')),
                'ping': first_line(c, ['ping', '-c1', '-W2', 'oldlink'])['code']}

    step('legacy_link_on_default_bridge', legacy_links)
    step('legacy_link_remove', lambda: api.remove_container('sdk_legacy/oldlink', link=True))
    step('legacy_link_after_remove', lambda: client.containers.get('sdk_legacy').attrs['HostConfig']['Links'])

    back = client.networks.get('sdk_back')
    step('connect_static_ip', lambda: back.connect(web, ipv4_address='10.78.0.50', aliases=['backweb']))
    step('connect_addrs', lambda: ipv4_addrs(web))
    step('connect_peer', lambda: back.connect(db))
    step('connect_alias_resolves', lambda: first_line(db, ['ping', '-c1', '-W2', 'backweb']))
    step('connect_duplicate', lambda: back.connect(web))
    answer('container-inspect-web', lambda: api.inspect_container('sdk_web'))
    answer('network-inspect-front', lambda: api.inspect_network('sdk_front'))
    answer('network-inspect-back', lambda: api.inspect_network('sdk_back'))
    step('network_containers', lambda: sorted(c.name for c in client.networks.get('sdk_back').containers))
    step('disconnect', lambda: back.disconnect(web))
    step('disconnect_addrs', lambda: ipv4_addrs(web))
    step('disconnect_again', lambda: back.disconnect(web))
    step('network_remove_in_use', lambda: back.remove())

    # ---- clean-up, the way fixtures and apps do it ----
    step('decoy', lambda: client.containers.run('sdkbb', ['sleep', '3600'], name='sdk_decoy', detach=True).name)

    def exited(name, labels):
        c = client.containers.run('sdkbb', ['true'], name=name, detach=True, labels=labels)
        return c.wait()['StatusCode']

    step('exited_labelled', lambda: exited('sdk_exited', {'berth.sdk': 'python'}))
    step('exited_unlabelled', lambda: exited('sdk_exited_keep', {}))
    step('container_list_running_filter', lambda: names(client.containers.list(filters={'label': LABEL, 'status': 'running'})))
    answer('container-list-label', lambda: sorted(api.containers(all=True, filters={'label': LABEL}), key=lambda c: c['Names'][0]))

    def cleanup_containers():
        mine = client.containers.list(all=True, filters={'label': LABEL})
        for c in mine:
            c.remove(force=True, v=True)
        return names(mine)

    def prune_containers():
        r = client.containers.prune(filters={'label': LABEL})
        answers['containers-prune'] = r
        return {'deleted': len(r['ContainersDeleted'] or []), 'space': r['SpaceReclaimed']}

    step('containers_prune_label', prune_containers)
    step('containers_exited_after_prune', lambda: names(client.containers.list(all=True, filters={'status': 'exited'})))
    step('cleanup_containers', cleanup_containers)
    step('containers_left', lambda: names(client.containers.list(all=True)))
    step('networks_prune_label', lambda: sorted(client.networks.prune(filters={'label': LABEL})['NetworksDeleted'] or []))
    step('networks_left', lambda: names(client.networks.list()))
    step('network_inspect_removed', lambda: client.networks.get('sdk_front').name)
    step('container_inspect_removed', lambda: client.containers.get('sdk_web').name)
    step('decoy_remove', lambda: client.containers.get('sdk_decoy').remove(force=True, v=True))
    step('exited_keep_remove', lambda: client.containers.get('sdk_exited_keep').remove(v=True))
    answer('networks-prune-keep', lambda: api.prune_networks(filters={'label': 'berth.keep'}))
    step('close', client.close)


try:
    scenario()
except Exception as e:  # a step outside step() failed: report what was seen so far
    observed['fatal'] = {'exception': type(e).__name__, 'message': str(e)}
json.dump({'observed': observed, 'answers': answers}, sys.stdout, indent=1, sort_keys=True)
print()
