#ifndef GRIDCAST_CCURLSHIM_H
#define GRIDCAST_CCURLSHIM_H

#include <curl/curl.h>

/// Non-variadic wrappers for libcurl's variadic option setters, which Swift cannot call directly.
CURLcode gc_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode gc_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode gc_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode gc_easy_setopt_offset(CURL *handle, CURLoption option, curl_off_t value);
CURLcode gc_easy_setopt_write_function(CURL *handle, curl_write_callback callback);
CURLcode gc_easy_setopt_header_function(CURL *handle, curl_write_callback callback);
/// Installs a CURLOPT_PREREQFUNCTION (called each time a request is about to be written) with its user pointer.
CURLcode gc_easy_setopt_prereq_function(CURL *handle, curl_prereq_callback callback, void *user);
CURLcode gc_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode gc_easy_getinfo_offset(CURL *handle, CURLINFO info, curl_off_t *value);
CURLcode gc_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value);
CURLMcode gc_multi_setopt_long(CURLM *handle, CURLMoption option, long value);

#endif
