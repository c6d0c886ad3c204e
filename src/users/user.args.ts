import { IsEmail, IsOptional, Length, ValidateNested } from 'class-validator';
import { ArgsType, Field, InputType, Int } from 'type-graphql';

import { InRange, IsId, ListSize } from '../graphql/validators';

export const MAX_USERS_PER_REQUEST = 100;
export const MAX_SIGNALS_PER_USER = 200;

@ArgsType()
export class UserArgs {
  @Field(() => Int)
  @IsId()
  id!: number;
}

@ArgsType()
export class UsersArgs {
  @Field(() => [Int], { description: `1 to ${MAX_USERS_PER_REQUEST} ids; unknown ids give null` })
  @ListSize(1, MAX_USERS_PER_REQUEST)
  @IsId({ each: true })
  ids!: number[];
}

@ArgsType()
export class UserSignalsArgs {
  @Field(() => Int, { defaultValue: 20, description: `1 to ${MAX_SIGNALS_PER_USER}, newest first` })
  @InRange(1, MAX_SIGNALS_PER_USER)
  limit!: number;
}

/** Its fields may come as `null`, which means left out (the resolver reads them through nullsAsAbsent). */
@InputType({ description: 'Fields to change; at least one' })
export class UpdateUserInput {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 100, { message: '$property must be 1 to 100 characters' })
  displayName?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsEmail({}, { message: '$property must be an email address' })
  email?: string | null;
}

@ArgsType()
export class SetUserActiveArgs {
  @Field(() => Int)
  @IsId()
  id!: number;

  @Field()
  active!: boolean;
}

@ArgsType()
export class UpdateUserArgs {
  @Field(() => Int)
  @IsId()
  id!: number;

  @Field(() => UpdateUserInput)
  @ValidateNested()
  input!: UpdateUserInput;
}
