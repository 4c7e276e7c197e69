import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsIP,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { QUEUE_ID, TICKET_SYSTEMS, TicketSystemName } from '../config/rules';
import { BodyName, IsPresent } from '../common/validated-body';

/** The longest chat line accepted from a bot (the appliance keeps chat lines short; so should bots). */
export const MAX_MESSAGE_CHARS = 4000;

export class EscalationCustomerDto {
  @IsString({ message: 'customer.name is required' }) @IsNotEmpty({ message: 'customer.name is required' }) @MaxLength(255) name!: string;
  @IsIP(undefined, { message: 'customer.ipAddress must be an IP address' }) ipAddress!: string;
  @IsString({ message: 'customer.operatingSystem is required' })
  @IsNotEmpty({ message: 'customer.operatingSystem is required' })
  @MaxLength(255)
  operatingSystem!: string;
  @IsString({ message: 'customer.computerName is required' })
  @IsNotEmpty({ message: 'customer.computerName is required' })
  @MaxLength(255)
  computerName!: string;
}

export class EscalationTicketDto {
  @IsIn(TICKET_SYSTEMS, { message: `ticket.system must be one of ${TICKET_SYSTEMS.join(', ')}` }) system!: TicketSystemName;
  @IsString({ message: 'ticket.id is required' }) @MaxLength(128) id!: string;
  @IsOptional() @IsString() @MaxLength(128) number?: string;
}

export class TranscriptLineDto {
  @IsIn(['customer', 'bot'], { message: 'transcript[].from must be customer or bot' }) from!: 'customer' | 'bot';
  @IsString() @IsNotEmpty({ message: 'transcript[].text must not be empty' }) @MaxLength(MAX_MESSAGE_CHARS) text!: string;
  /** ISO 8601 or UNIX seconds; when the line was said. */
  @Transform(({ value }) => (typeof value === 'number' ? new Date(value * 1000).toISOString() : value))
  @Matches(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/, {
    message: 'transcript[].at must be an ISO 8601 time or UNIX seconds',
  })
  at!: string;
}

@BodyName('The chat escalation body')
export class CreateEscalationDto {
  @IsPresent('customer is required') @ValidateNested() @Type(() => EscalationCustomerDto) customer!: EscalationCustomerDto;
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { message: 'callbackUrl must be an http(s) URL' })
  callbackUrl!: string;
  /** A queue (general, team:<id>, rep:<id>, rep_username:<name>, issue:<code>); omitted: the rules file routes. */
  @IsOptional()
  @Matches(QUEUE_ID, { message: 'queue must be general, team:<id>, rep:<id>, rep_username:<name> or issue:<code>' })
  queue?: string;
  /** The ticket the conversation belongs to: its session is written back to it when it ends. */
  @IsOptional() @ValidateNested() @Type(() => EscalationTicketDto) ticket?: EscalationTicketDto;
  @IsOptional() @IsString() @MaxLength(128) externalKey?: string;
  /** session.custom.* code name → value. */
  @IsOptional() @IsObject() fields?: Record<string, string>;
  @IsOptional() @Matches(/^[a-z]{2}(-[A-Za-z]{2})?$/, { message: 'locale must look like en or en-US' }) locale?: string;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(500)
  @ValidateNested({ each: true })
  @Type(() => TranscriptLineDto)
  transcript?: TranscriptLineDto[];
}

@BodyName('The chat message body')
export class ChatMessageDto {
  @IsString({ message: 'text is required' })
  @IsNotEmpty({ message: 'text must not be empty' })
  @MaxLength(MAX_MESSAGE_CHARS, { message: `text must be at most ${MAX_MESSAGE_CHARS} characters` })
  text!: string;
  /** True when the text carries BBCode the bot means (otherwise brackets are shown as typed). */
  @IsOptional() @IsBoolean() formatted?: boolean;
}

const BBCODE_TAG = /\[(\/?(?:b|i|u|ul|li|url|color)(?:=[^\]]*)?)\]/gi;

/** Shows a user's "[b]" as typed instead of bold: a zero-width space after the bracket breaks the tag. */
export const escapeBBCode = (text: string): string => text.replace(BBCODE_TAG, '[\u200B$1]');
