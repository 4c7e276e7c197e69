import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { UpscopeService } from '../upscope/upscope.service';
import { CobrowseService } from './cobrowse.service';
import { JumpService } from './jump.service';
import { WatchUrlController } from './watch-url.controller';

const services = [UpscopeService, CobrowseService, JumpService];

/** Flow 4 (co-browse with Upscope) and Jump links: what a ticket asks for besides a session key. */
@Module({ imports: [SessionsModule], providers: services, exports: services })
export class CobrowseModule {}

@Module({ imports: [CobrowseModule], controllers: [WatchUrlController] })
export class CobrowseApiModule {}
