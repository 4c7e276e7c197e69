import { Global, Module } from '@nestjs/common';
import { TicketsService } from './tickets.service';

const services = [TicketsService];

/** Ticket systems: inbound verification/normalisation and outbound writes, one folder a system. */
@Global()
@Module({ providers: services, exports: services })
export class TicketsModule {}
