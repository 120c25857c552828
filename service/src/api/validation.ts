// Request validation for every route schema. Parts that come from the URL (query string,
// params) and headers are text, so they are coerced (`?fullHistory=true` → true, one
// `?matchId=` → an array). A JSON body already has types: `"matchId": 0` is a 400, not the
// string "0". Unknown properties are refused, never silently removed.
import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

function compilerWith(options: Options): Ajv {
  const ajv = new Ajv({ useDefaults: true, removeAdditional: false, allErrors: false, strict: false, ...options });
  addFormats.default(ajv);
  return ajv;
}

const forText = compilerWith({ coerceTypes: 'array' });
const forJson = compilerWith({ coerceTypes: false });

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? forJson : forText).compile(schema);
