import { DynamicModule, Module } from '@nestjs/common';
import { BeyondTrustModule } from '../beyondtrust/beyondtrust.module';
import { ConfigModule } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { RedisModule } from '../redis/redis.module';
import { TicketsModule } from '../tickets/tickets.module';
import { UpscopeModule } from '../upscope/upscope.module';
import { DoctorService } from './doctor.service';

/** What `npm run doctor` boots: the clients, none of the HTTP server or workers. */
@Module({})
export class DoctorModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: DoctorModule,
      imports: [ConfigModule.forRoot(config), RedisModule, BeyondTrustModule, TicketsModule, UpscopeModule],
      providers: [DoctorService],
      exports: [DoctorService],
    };
  }
}
