import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/phone-number-search.ts). */
const handlers = () => import('./handlers/phone-number-search.js');

app.http('availablePhoneNumberCountries', {
  route: 'availablePhoneNumbers/countries',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'availablePhoneNumberCountries'),
});

app.http('availablePhoneNumberLocalities', {
  route: 'availablePhoneNumbers/countries/{countryCode}/localities',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'availablePhoneNumberLocalities'),
});

app.http('availablePhoneNumberOfferings', {
  route: 'availablePhoneNumbers/countries/{countryCode}/offerings',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'availablePhoneNumberOfferings'),
});

app.http('availablePhoneNumberAreaCodes', {
  route: 'availablePhoneNumbers/countries/{countryCode}/areaCodes',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'availablePhoneNumberAreaCodes'),
});

app.http('availablePhoneNumberSearch', {
  route: 'availablePhoneNumbers/countries/{countryCode}/:search',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'availablePhoneNumberSearch'),
});

app.http('availablePhoneNumberSearchResult', {
  route: 'availablePhoneNumbers/searchResults/{searchId}',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'availablePhoneNumberSearchResult'),
});

app.http('availablePhoneNumberPurchase', {
  route: 'availablePhoneNumbers/:purchase',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'availablePhoneNumberPurchase'),
});

app.http('availablePhoneNumberBrowse', {
  route: 'availablePhoneNumbers/countries/{countryCode}/:browse',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'availablePhoneNumberBrowse'),
});

app.http('phoneNumberReservations', {
  route: 'availablePhoneNumbers/reservations',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'phoneNumberReservations'),
});

app.http('phoneNumberReservation', {
  route: 'availablePhoneNumbers/reservations/{reservationId}',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'phoneNumberReservation'),
});

app.http('phoneNumberReservationPurchase', {
  route: 'availablePhoneNumbers/reservations/{reservationId}/:purchase',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'phoneNumberReservationPurchase'),
});
