import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { labFor, type Lab } from '../lab/lab.js';
import { ok } from './helpers.js';

// berthd's own log (issue 12): --log-file instead of stderr, and clients that hang up
// mid-request or mid-stream (a half-sent body, logs -f, events, attach, exec) leave at
// most one short debug line each, never an error or a stack trace, and berthd serves on.

/** Opens a raw connection to berthd's socket, sends `head`, and resolves once `until` shows in what comes back (or at once). */
function rawRequest(lab: Lab, head: string, until?: RegExp): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(lab.socket);
    let got = '';
    s.on('error', reject);
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (until?.test(got)) resolve(s);
    });
    s.write(head, () => {
      if (!until) resolve(s);
    });
  });
}

/** A client that is gone: its socket closed mid-exchange, as a killed client leaves it. */
async function hangUp(s: Socket): Promise<void> {
  s.destroy();
  await new Promise((r) => s.once('close', r));
}

describe("berthd's log", { concurrency: false }, () => {
  test('clients that hang up mid-request or mid-stream leave no error and no stack trace in the log', async (t) => {
    const lab = await labFor(t, { startDaemon: false });
    const logFile = join(lab.dir, 'log', 'berthd.log');
    await lab.startDaemon(['--log-file', logFile, '-D']);
    await ok(lab, ['run', '-d', '--name', 'chatty', '--', 'sh', '-c', 'while :; do echo tick; sleep 0.1; done']);

    // a JSON body cut short, and one of an upgrade request (exec start)
    await hangUp(await rawRequest(lab, 'POST /v1.41/networks/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"Name": "half'));
    const exec = await lab.api('POST', '/v1.41/containers/chatty/exec', { Cmd: ['sh', '-c', 'while :; do echo x; sleep 0.05; done'], AttachStdout: true });
    const execId = (exec.body as { Id: string }).Id;
    await hangUp(await rawRequest(lab, `POST /v1.41/exec/${execId}/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"De`));
    // streams, left while they flow: logs -f, events, attach, a running exec
    await hangUp(await rawRequest(lab, 'GET /v1.41/containers/chatty/logs?follow=1&stdout=1 HTTP/1.1\r\nHost: x\r\n\r\n', /tick/));
    await hangUp(await rawRequest(lab, 'GET /v1.41/events HTTP/1.1\r\nHost: x\r\n\r\n', /200 OK/));
    await hangUp(await rawRequest(lab, 'POST /v1.41/containers/chatty/attach?stream=1&stdout=1&stdin=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n', /tick/));
    const exec2 = await lab.api('POST', '/v1.41/containers/chatty/exec', { Cmd: ['sh', '-c', 'while :; do echo x; sleep 0.05; done'], AttachStdout: true });
    const body = '{"Detach":false,"Tty":false}';
    await hangUp(await rawRequest(lab, `POST /v1.41/exec/${(exec2.body as { Id: string }).Id}/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`, /x\n[\s\S]*x\n/));
    // as a person would: curl on a followed log and on events, stopped by its own timer
    const curl = (path: string) => lab.inHost(['curl', '-sS', '--max-time', '1', '--unix-socket', lab.socket, `http://x${path}`]);
    assert.equal((await curl('/v1.41/containers/chatty/logs?follow=1&stdout=1')).code, 28);
    assert.equal((await curl('/v1.41/events')).code, 28);
    // a second round of output after the hang-ups, into the sockets that are gone
    await hangUp(await rawRequest(lab, 'GET /v1.41/containers/chatty/logs?follow=1&stdout=1&tail=0 HTTP/1.1\r\nHost: x\r\n\r\n', /tick[\s\S]*tick/));

    // berthd serves on, and said nothing but short debug lines about them
    assert.equal((await lab.api('GET', '/_ping')).text, 'OK');
    await ok(lab, ['rm', '-f', 'chatty']);
    const log = readFileSync(logFile, 'utf8');
    assert.match(log, /API listen on unix:\/\//, 'the log went to --log-file');
    assert.equal(lab.daemonLog().trim(), '', 'and not to stderr');
    // the attach's output kept flowing into a socket that was gone: one debug line, no crash
    assert.match(log, /debug: POST \/v1\.41\/containers\/chatty\/attach\S*: client went away \(\w+\)\n/);
    assert.doesNotMatch(log, /Error|\n\s+at |uncaught|ERR_/i, log);
  });

  test('--log-max-size and --log-max-files cap the log file (daemon.json keys too)', async (t) => {
    const lab = await labFor(t, { startDaemon: false });
    const dir = join(lab.dir, 'log');
    const logFile = join(dir, 'berthd.log');
    writeFileSync(lab.configFile, JSON.stringify({ 'log-file': logFile, 'log-max-size': '1k', 'log-max-files': 2 }));
    // each start and stop writes ~250 bytes (listen, ready, shutting down): twelve pass the 1k cap three times over
    for (let i = 0; i < 12; i++) await lab.restartDaemon();
    assert.equal((await lab.api('GET', '/_ping')).text, 'OK');
    assert.deepEqual(readdirSync(dir).sort(), ['berthd.log', 'berthd.log.1']);
    for (const f of ['berthd.log', 'berthd.log.1']) assert.ok(readFileSync(join(dir, f)).length <= 1024, `${f} is within --log-max-size`);
    // the newest lines are in PATH, whole; the oldest starts are gone
    const newest = readFileSync(logFile, 'utf8');
    assert.match(newest, /berthd: ready in \d+ ms\n\S+ berthd: start-up sweep done in \d+ ms \(writes waited for it\)\n$/);
    const kept = (readFileSync(`${logFile}.1`, 'utf8') + newest).match(/API listen on/g)?.length ?? 0;
    assert.ok(kept >= 3 && kept < 12, `${kept} of 12 starts kept`);
  });
});
