import { ServiceError } from '../errors/service-error.js';
import type { MessageTemplate, NotificationContent, TemplateValue } from './notification-content.js';

/**
 * An ACS notification as the body of the Graph API's `POST /{phone-number-id}/messages`, without
 * the recipient (added per recipient). Media go as links (WhatsApp fetches them; no byte passes
 * through this service). A template's values are bound to its components as the ACS bindings say:
 * header and body parameters in order, buttons by their index (quick replies with their payload,
 * URL buttons with the text of their dynamic suffix). WhatsApp footers take no parameters, so
 * footer bindings are checked and not sent.
 */
export type GraphMessage = { type: string } & Record<string, unknown>;

export function graphMessage(content: NotificationContent): GraphMessage {
  switch (content.kind) {
    case 'text':
      return { type: 'text', text: { body: content.content, preview_url: false } };
    case 'image':
      return { type: 'image', image: { link: content.mediaUri, ...(content.caption !== undefined ? { caption: content.caption } : {}) } };
    case 'image_v0':
      return { type: 'image', image: { link: content.mediaUri, ...(content.content !== undefined ? { caption: content.content } : {}) } };
    case 'document':
      return {
        type: 'document',
        document: { link: content.mediaUri, ...(content.caption !== undefined ? { caption: content.caption } : {}), ...(content.fileName !== undefined ? { filename: content.fileName } : {}) },
      };
    case 'video':
      return { type: 'video', video: { link: content.mediaUri, ...(content.caption !== undefined ? { caption: content.caption } : {}) } };
    case 'audio':
      return { type: 'audio', audio: { link: content.mediaUri } };
    case 'template':
      return { type: 'template', template: graphTemplate(content.template) };
  }
}

function graphTemplate(template: MessageTemplate): Record<string, unknown> {
  const values = new Map<string, TemplateValue>();
  for (const [index, value] of (template.values ?? []).entries()) {
    if (values.has(value.name)) throw invalid(`template.values.${index}.name`, `The template value name '${value.name}' is used twice.`);
    values.set(value.name, value);
  }
  const bindings = template.bindings;
  const components: Record<string, unknown>[] = [];
  if (bindings) {
    const lookup = (section: string, index: number, ref: string): TemplateValue => {
      const value = values.get(ref);
      if (!value) throw invalid(`template.bindings.${section}.${index}.refValue`, `The binding refers to '${ref}', which is not one of the template's values.`);
      return value;
    };
    for (const section of ['header', 'body'] as const) {
      const refs = bindings[section];
      if (!refs || refs.length === 0) continue;
      const parameters = refs.map((ref, index) => {
        const value = lookup(section, index, ref.refValue);
        if (value.kind === 'quickAction') throw invalid(`template.bindings.${section}.${index}.refValue`, `The ${section} cannot take the quickAction value '${value.name}'.`);
        return parameter(value);
      });
      components.push({ type: section, parameters });
    }
    for (const [index, ref] of (bindings.footer ?? []).entries()) lookup('footer', index, ref.refValue);
    for (const [index, button] of (bindings.buttons ?? []).entries()) {
      const value = lookup('buttons', index, button.refValue);
      if (value.kind !== 'quickAction') throw invalid(`template.bindings.buttons.${index}.refValue`, `A button takes a quickAction value; '${value.name}' is ${value.kind}.`);
      const parameters =
        button.subType === 'quickReply'
          ? [{ type: 'payload', payload: value.payload ?? value.text ?? '' }]
          : [{ type: 'text', text: value.text ?? value.payload ?? '' }];
      components.push({ type: 'button', sub_type: button.subType === 'quickReply' ? 'quick_reply' : 'url', index: String(index), parameters });
    }
  }
  return { name: template.name, language: { code: template.language }, ...(components.length > 0 ? { components } : {}) };
}

function parameter(value: Exclude<TemplateValue, { kind: 'quickAction' }>): Record<string, unknown> {
  switch (value.kind) {
    case 'text':
      return { type: 'text', text: value.text };
    case 'image':
      return { type: 'image', image: { link: value.url } };
    case 'video':
      return { type: 'video', video: { link: value.url } };
    case 'document':
      return { type: 'document', document: { link: value.url, ...(value.fileName !== undefined ? { filename: value.fileName } : {}) } };
    case 'location':
      return {
        type: 'location',
        location: { latitude: value.latitude, longitude: value.longitude, ...(value.locationName !== undefined ? { name: value.locationName } : {}), ...(value.address !== undefined ? { address: value.address } : {}) },
      };
  }
}

const invalid = (target: string, message: string) => new ServiceError('ValidationError', `Invalid request body: ${message}`, { target });
