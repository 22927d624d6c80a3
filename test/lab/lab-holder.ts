// Makes a lab and holds it until killed: lets a test kill -9 a whole lab world and check
// what is left. Prints "ready <lab name>" once the lab is up.
import { Lab } from './lab.js';

const lab = await Lab.create({ startDaemon: false });
process.stdout.write(`ready ${lab.name}\n`);
setInterval(() => undefined, 60_000);
