import { Module } from '@nestjs/common';
import { StatusController } from './status.controller';

const controllers = [StatusController];

@Module({ controllers })
export class AdminModule {}
