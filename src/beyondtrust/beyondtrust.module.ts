import { Global, Module } from '@nestjs/common';
import { BeyondTrustService } from './beyondtrust.service';

const services = [BeyondTrustService];

/** The only module that talks to the appliance (and the only one that knows it speaks XML). */
@Global()
@Module({ providers: services, exports: services })
export class BeyondTrustModule {}
