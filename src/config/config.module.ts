import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from './load-config';

export const APP_CONFIG = Symbol('APP_CONFIG');

/** The configuration is loaded once, before Nest starts, and shared read-only with every module. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] };
  }
}
