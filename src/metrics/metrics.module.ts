import { Controller, Get, Header, Module, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { DiscoveryModule } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import { MetricsService } from './metrics.service';

/** Prometheus text format, unauthenticated like the probes (put it behind the cluster network). */
@ApiTags('probes')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @ApiOperation({ summary: 'Prometheus metrics (text exposition format)', security: [] })
  @ApiProduces('text/plain')
  @ApiResponse({
    status: 200,
    description: 'The metrics',
    content: { 'text/plain': { schema: { type: 'string' }, example: 'rsb_jobs_total{queue="ticket-events",outcome="completed"} 12\n' } },
  })
  @Get()
  @Header('cache-control', 'no-store')
  async scrape(@Res() reply: FastifyReply): Promise<void> {
    const { contentType, body } = await this.metrics.render();
    await reply.header('content-type', contentType).send(body);
  }
}

@Module({ imports: [DiscoveryModule], providers: [MetricsService], controllers: [MetricsController], exports: [MetricsService] })
export class MetricsModule {}
