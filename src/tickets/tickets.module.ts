import { Global, Module } from '@nestjs/common';
import { CallbackTargets } from '../outbound/callback-targets';
import { TicketsService } from './tickets.service';

const services = [TicketsService, CallbackTargets];

/** Ticket systems: inbound verification/normalisation and outbound writes, one folder a system. */
@Global()
@Module({ providers: services, exports: services })
export class TicketsModule {}
