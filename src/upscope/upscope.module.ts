import { Module } from '@nestjs/common';
import { UpscopeService } from './upscope.service';

/** One Upscope client per process, shared by co-browse, the sessions view, the doctor and readiness. */
@Module({ providers: [UpscopeService], exports: [UpscopeService] })
export class UpscopeModule {}
