export { goJson, goJsonMember, goJsonNumber, goJsonString, parseJsonKeepingNumbers } from './go-json.ts';
