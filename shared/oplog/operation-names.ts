/**
 * The operation names log records carry, as ACS names them in its Azure Monitor logs, by function
 * and HTTP method. A route not listed here is logged as `{function}.{method}`.
 */
const NAMES: Record<string, string> = {
  'identityCreate POST': 'CreateIdentity',
  'identityDelete DELETE': 'DeleteIdentity',
  'identityIssueAccessToken POST': 'IssueAccessToken',
  'identityRevokeAccessTokens POST': 'RevokeAccessTokens',
  'teamsUserExchangeAccessToken POST': 'ExchangeTeamsUserAccessToken',
  'chatThreads POST': 'CreateChatThread',
  'chatThreads GET': 'ListChatThreads',
  'chatThread GET': 'GetChatThreadProperties',
  'chatThread PATCH': 'UpdateChatThreadProperties',
  'chatThread DELETE': 'DeleteChatThread',
  'chatMessages POST': 'SendChatMessage',
  'chatMessages GET': 'ListChatMessages',
  'chatMessage GET': 'GetChatMessage',
  'chatMessage PATCH': 'UpdateChatMessage',
  'chatMessage DELETE': 'DeleteChatMessage',
  'chatParticipants GET': 'ListChatParticipants',
  'chatParticipantsAdd POST': 'AddChatParticipants',
  'chatParticipantsRemove POST': 'RemoveChatParticipant',
  'chatReadReceipts GET': 'ListChatReadReceipts',
  'chatReadReceipts POST': 'SendChatReadReceipt',
  'chatTyping POST': 'SendTypingNotification',
  'recordings POST': 'UploadRecording',
  'recordings GET': 'ListRecordings',
  'recording GET': 'GetRecording',
  'recording DELETE': 'DeleteRecording',
  'recordingMetadata GET': 'GetRecordingMetadata',
  'recordingContent GET': 'DownloadRecording',
  'recordingContent HEAD': 'GetRecordingContentProperties',
  'eventsSendTest POST': 'SendTestEvent',
  'privacyRequests POST': 'SubmitPrivacyRequest',
  'privacyRequests GET': 'ListPrivacyRequests',
  'privacyRequest GET': 'GetPrivacyRequest',
  'privacyRequestResult GET': 'DownloadPrivacyRequestResult',
  'erasureReceipts GET': 'ListErasureReceipts',
  'erasureReceipt GET': 'GetErasureReceipt',
  // SMS, as ACS's SMS operational logs name them (inbound messages and delivery reports are logged by the carrier links).
  'sms POST': 'SMSMessagesSent',
  // Phone numbers, by the SDK's operation names.
  'phoneNumbers GET': 'ListPhoneNumbers',
  'phoneNumber GET': 'GetPhoneNumber',
  'phoneNumber DELETE': 'ReleasePhoneNumber',
  'phoneNumberCapabilities PATCH': 'UpdatePhoneNumberCapabilities',
  'phoneNumberOperation GET': 'GetPhoneNumberOperation',
  'availablePhoneNumberCountries GET': 'ListAvailableCountries',
  'availablePhoneNumberLocalities GET': 'ListAvailableLocalities',
  'availablePhoneNumberOfferings GET': 'ListOfferings',
  'availablePhoneNumberAreaCodes GET': 'ListAreaCodes',
  'availablePhoneNumberSearch POST': 'SearchAvailablePhoneNumbers',
  'availablePhoneNumberSearchResult GET': 'GetPhoneNumberSearchResult',
  'availablePhoneNumberPurchase POST': 'PurchasePhoneNumbers',
  'emailSend POST': 'SendMail',
  'emailOperation GET': 'GetSendResult',
  // Advanced Messaging (WhatsApp); what the webhook brings is logged as MessageReceived and MessageDeliveryStatusUpdated.
  'messagesNotificationsSend POST': 'SendMessage',
  'messagesStream GET': 'DownloadMedia',
  'messagesTemplates GET': 'ListTemplates',
};

export function operationName(functionName: string, method: string): string {
  return NAMES[`${functionName} ${method.toUpperCase()}`] ?? `${functionName}.${method.toUpperCase()}`;
}
