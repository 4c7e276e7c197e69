import { Global, Module } from '@nestjs/common';
import { Locks } from './locks';
import { RedisService } from './redis.service';

@Global()
@Module({
  providers: [RedisService, Locks],
  exports: [RedisService, Locks],
})
export class RedisModule {}
