import * as z from 'zod';
import { isAcsUserId } from '../identity/identity-id.js';

/**
 * The wire model of a communication identifier (`CommunicationIdentifierModel`). Chat here takes
 * part only between communication users of the same resource, so a model is reduced to that user's
 * raw id; phone numbers and Teams identities are refused with a clear message.
 */
export const communicationIdentifierSchema = z
  .object({
    rawId: z.string().optional(),
    kind: z.string().optional(),
    communicationUser: z.object({ id: z.string() }).optional(),
    phoneNumber: z.unknown().optional(),
    microsoftTeamsUser: z.unknown().optional(),
    microsoftTeamsApp: z.unknown().optional(),
  })
  .transform((model, ctx) => {
    if (model.phoneNumber !== undefined || model.microsoftTeamsUser !== undefined || model.microsoftTeamsApp !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'only communication users can take part in chat here, not phone numbers or Teams identities' });
      return z.NEVER;
    }
    const id = model.communicationUser?.id ?? model.rawId;
    if (!id || !isAcsUserId(id)) {
      ctx.addIssue({ code: 'custom', message: "a communication user id ('8:acs:...') is required" });
      return z.NEVER;
    }
    if (model.rawId !== undefined && model.communicationUser !== undefined && model.rawId !== model.communicationUser.id) {
      ctx.addIssue({ code: 'custom', message: 'rawId and communicationUser.id name different users' });
      return z.NEVER;
    }
    return id;
  });

export interface CommunicationIdentifierModel {
  rawId: string;
  kind: 'communicationUser';
  communicationUser: { id: string };
}

export function identifierModel(rawId: string): CommunicationIdentifierModel {
  return { rawId, kind: 'communicationUser', communicationUser: { id: rawId } };
}
