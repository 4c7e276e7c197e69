import { NestFactory } from '@nestjs/core';
import { ConfigError } from '../config/config.error';
import { AppConfig, loadConfig } from '../config/load-config';
import { DoctorModule } from './doctor.module';
import { DoctorService, formatChecks } from './doctor.service';

/**
 * Checks every connection and permission with the configuration of this environment (in a pod, the
 * service's own), prints ✓/✗ with a fix for each ✗ (or the checks as JSON) and answers the exit code:
 * 0 when all pass, 1 otherwise.
 */
export async function runDoctor(write: (text: string) => void, json = false): Promise<number> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : String(error);
    write(
      json
        ? `${JSON.stringify({ ok: false, checks: [{ area: 'configuration', name: 'valid', ok: false, detail: message }] })}\n`
        : `✗ configuration  ${message}\n`,
    );
    return 1;
  }
  const app = await NestFactory.createApplicationContext(DoctorModule.forRoot(config), { logger: false });
  try {
    const checks = await app.get(DoctorService).run();
    const ok = checks.every((c) => c.ok);
    write(json ? `${JSON.stringify({ ok, checks })}\n` : formatChecks(checks));
    return ok ? 0 : 1;
  } finally {
    await app.close();
  }
}
