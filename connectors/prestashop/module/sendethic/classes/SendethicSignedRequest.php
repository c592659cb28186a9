<?php
/**
 * The request Sendethic's instant-add endpoint accepts: a JSON body, the Unix time, and the
 * hex HMAC-SHA256 of "<timestamp>.<body>" with the connection's secret (the same format as the
 * Magento module). No PrestaShop class is used here, so the format can be checked with the PHP
 * CLI alone (tests/connectors/test_prestashop_module.py).
 */
class SendethicSignedRequest
{
    /** @var string */
    public $body;
    /** @var array<string, string> */
    public $headers;

    /**
     * @param array<string, mixed> $payload
     * @param string $secret
     * @param int|null $timestamp
     */
    public function __construct(array $payload, $secret, $timestamp = null)
    {
        $time = (string) ($timestamp === null ? time() : (int) $timestamp);
        $this->body = (string) json_encode($payload, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
        $this->headers = array(
            'Content-Type' => 'application/json',
            'X-Sendethic-Timestamp' => $time,
            'X-Sendethic-Signature' => hash_hmac('sha256', $time . '.' . $this->body, (string) $secret),
        );
    }

    /**
     * @return array<string, mixed>
     */
    public static function payload($email, $shopId, $firstname = '', $lastname = '', $ip = '')
    {
        $payload = array(
            'email' => (string) $email,
            'store_code' => (string) $shopId,
            'subscribed_at' => gmdate('Y-m-d H:i:s'),
        );
        if ($firstname !== '') {
            $payload['firstname'] = (string) $firstname;
        }
        if ($lastname !== '') {
            $payload['lastname'] = (string) $lastname;
        }
        if ($ip !== '') {
            $payload['ip'] = (string) $ip;
        }
        return $payload;
    }

    /**
     * POST to the endpoint; returns the HTTP status (0 when the call failed). Short timeouts:
     * the shop's subscription form must not wait on Sendethic, and the next sync catches up.
     */
    public function send($url)
    {
        if (!function_exists('curl_init')) {
            return 0;
        }
        $lines = array();
        foreach ($this->headers as $name => $value) {
            $lines[] = $name . ': ' . $value;
        }
        $curl = curl_init($url);
        curl_setopt_array($curl, array(
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => $this->body,
            CURLOPT_HTTPHEADER => $lines,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_CONNECTTIMEOUT => 3,
            CURLOPT_TIMEOUT => 5,
        ));
        curl_exec($curl);
        $status = (int) curl_getinfo($curl, CURLINFO_HTTP_CODE);
        curl_close($curl);
        return $status;
    }
}
