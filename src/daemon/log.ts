import { RotatingLogFile } from './log-file.js';

// berthd's log: stamped lines on stderr (the journal under systemd), or in a size-capped
// file with --log-file. Debug lines (-D) are for what an operator need not see every day,
// such as a client that went away mid-request.

export interface DaemonLog {
  (msg: string): void;
  debug(msg: string): void;
  /** A line that must be seen where berthd was started too (it is about to exit). */
  fatal(msg: string): void;
}

export interface LogOptions {
  file?: string;
  maxBytes: number;
  maxFiles: number;
  debug: boolean;
}

export function openDaemonLog(o: LogOptions): DaemonLog {
  const file = o.file ? new RotatingLogFile(o.file, o.maxBytes, o.maxFiles) : undefined;
  const write = (line: string) => (file ? file.write(line) : process.stderr.write(line));
  const stamp = (msg: string) => `${new Date().toISOString()} berthd: ${msg}\n`;
  const log = ((msg: string) => write(stamp(msg))) as DaemonLog;
  log.debug = o.debug ? (msg) => write(stamp(`debug: ${msg}`)) : () => undefined;
  log.fatal = (msg) => {
    write(stamp(msg));
    if (file) process.stderr.write(`berthd: ${msg}\n`);
  };
  return log;
}
