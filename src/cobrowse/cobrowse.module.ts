import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { UpscopeModule } from '../upscope/upscope.module';
import { CobrowseService } from './cobrowse.service';
import { WatchUrlController } from './watch-url.controller';

const services = [CobrowseService];

/** Flow 4: co-browse with Upscope. */
@Module({ imports: [SessionsModule, UpscopeModule], providers: services, exports: [...services, UpscopeModule] })
export class CobrowseModule {}

@Module({ imports: [CobrowseModule], controllers: [WatchUrlController] })
export class CobrowseApiModule {}
