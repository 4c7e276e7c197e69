import 'reflect-metadata';
import { IsInt, IsString, MaxLength, validateSync, ValidateNested } from 'class-validator';
import { plainToInstance, Type } from 'class-transformer';
import { cacheValidationMetadata } from '../../../src/http/validation-metadata-cache';

const problemsOf = <T extends object>(cls: new () => T, plain: object, groups?: string[]) =>
  validateSync(plainToInstance(cls, plain), { whitelist: true, forbidUnknownValues: false, ...(groups ? { groups } : {}) })
    .flatMap((e) => [e.property, ...(e.children ?? []).map((c) => `${e.property}.${c.property}`)])
    .sort();

describe('the validation metadata cache', () => {
  beforeAll(() => cacheValidationMetadata());

  it('validates nested and inherited rules as class-validator does, call after call', () => {
    class Requester {
      @IsString() name!: string;
    }
    class Base {
      @IsString() id!: string;
    }
    class Ticket extends Base {
      @MaxLength(5) subject!: string;
      @ValidateNested() @Type(() => Requester) requester!: Requester;
    }
    const bad = { id: 7, subject: 'far too long', requester: { name: 1 } };
    for (let i = 0; i < 3; i += 1) expect(problemsOf(Ticket, bad)).toEqual(['id', 'requester', 'requester.name', 'subject']);
    expect(problemsOf(Ticket, { id: '7', subject: 'ok', requester: { name: 'Casey' } })).toEqual([]);
  });

  it('keeps groups apart: a lookup with groups does not answer one without', () => {
    class Grouped {
      @IsInt({ groups: ['strict'] }) count!: number;
      @IsString() label!: string;
    }
    const plain = { count: 'x', label: 1 };
    expect(problemsOf(Grouped, plain, ['strict'])).toEqual(['count']);
    // Without groups every rule applies (class-validator's default, strictGroups off).
    expect(problemsOf(Grouped, plain)).toEqual(['count', 'label']);
    expect(problemsOf(Grouped, plain, ['strict'])).toEqual(['count']);
  });

  it('sees a rule registered after the class was first validated', () => {
    class Late {
      @IsString() first!: string;
    }
    expect(problemsOf(Late, { first: 'a', second: 'b' })).toEqual([]);
    IsInt()(Late.prototype, 'second');
    expect(problemsOf(Late, { first: 'a', second: 'b' })).toEqual(['second']);
  });

  it('installs once however many apps are created in one process', () => {
    cacheValidationMetadata();
    class Once {
      @IsString() value!: string;
    }
    expect(problemsOf(Once, { value: 1 })).toEqual(['value']);
  });
});
