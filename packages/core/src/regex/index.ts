// Linear-time regular expressions (RE2 semantics) for patterns that come from untrusted input.
export {
  compileLinearRegex,
  MAX_REGEX_LENGTH,
  MAX_REGEX_PROGRAM_SIZE,
  UnsupportedRegexError,
  type LinearRegex,
} from './linear-regex.ts';
