// Benchmark child: runs one attack at a time against the server, on the parent's
// command, in a process of its own (see bench/lib/ipc.ts).
//
// Usage (from bench/abuse.js): node attacker.js

import { serveParent } from '../lib/ipc.js';
import { ATTACKS, type AttackName, type AttackTarget, type RunningAttack } from './attacks.js';

let running: RunningAttack | null = null;

serveParent(
  {
    async start({ name, target }: { name: AttackName; target: AttackTarget }) {
      if (running !== null) throw new Error('an attack is already running');
      running = await ATTACKS[name](target);
      return null;
    },
    async stop() {
      const attack = running;
      running = null;
      return attack === null ? 'not running' : attack.stop();
    },
  },
  null,
);
