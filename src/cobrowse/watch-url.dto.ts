import { Type } from 'class-transformer';
import { IsBoolean, IsObject, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { BodyName, IsPresent } from '../common/validated-body';

class VisitorQueryDto {
  @IsOptional() @IsString() @MaxLength(64) id?: string;
  @IsOptional() @Matches(/^\w{1,32}$/, { message: 'visitor.lookupCode must be the code the customer reads out' }) lookupCode?: string;
  @IsOptional() @IsString() @MaxLength(255) email?: string;
  @IsOptional() @IsString() @MaxLength(255) query?: string;
}

class AgentDto {
  @IsString({ message: 'agent.id is required' }) @MaxLength(128) id!: string;
  @IsString({ message: 'agent.name is required' }) @MaxLength(255) name!: string;
}

@BodyName('The co-browse watch URL body')
export class WatchUrlRequestDto {
  @IsPresent('visitor is required') @ValidateNested() @Type(() => VisitorQueryDto) visitor!: VisitorQueryDto;
  @IsPresent('agent is required') @ValidateNested() @Type(() => AgentDto) agent!: AgentDto;
  /** Upscope permission name → allowed, over UPSCOPE_PERMISSIONS. */
  @IsOptional() @IsObject() permissions?: Record<string, boolean>;
  @IsOptional() @IsObject() metadata?: Record<string, unknown>;
  @IsOptional() @IsBoolean() naked?: boolean;
}
