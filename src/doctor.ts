import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ConfigError } from './config/config.error';
import { AppConfig, loadConfig } from './config/load-config';
import { DoctorModule } from './doctor/doctor.module';
import { DoctorService, formatChecks } from './doctor/doctor.service';

/**
 * `npm run doctor` (in the image: `node dist/doctor.js`): checks every connection and permission with the
 * same configuration the service uses, prints ✓/✗ with a fix for each ✗, exits 0 only when all pass.
 */
async function main(): Promise<number> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    process.stdout.write(`✗ configuration  ${error instanceof ConfigError ? error.message : String(error)}\n`);
    return 1;
  }
  const app = await NestFactory.createApplicationContext(DoctorModule.forRoot(config), { logger: false });
  try {
    const checks = await app.get(DoctorService).run();
    process.stdout.write(formatChecks(checks));
    return checks.every((c) => c.ok) ? 0 : 1;
  } finally {
    await app.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`doctor: ${String(error)}\n`);
    process.exit(1);
  },
);
