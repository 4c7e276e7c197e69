import 'reflect-metadata';
import { runDoctor } from './doctor/run-doctor';

/**
 * `npm run doctor` (in the image: `node dist/doctor.js`, or `node dist/cli.js doctor`): checks every
 * connection and permission with the same configuration the service uses, prints ✓/✗ with a fix for
 * each ✗, exits 0 only when all pass.
 */
runDoctor((text) => process.stdout.write(text)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`doctor: ${String(error)}\n`);
    process.exit(1);
  },
);
