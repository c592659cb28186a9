<?php
/**
 * Sendethic for PrestaShop 1.6 – 8: newsletter instant add, and guest subscribers for the sync.
 *
 * - A newsletter subscription in the shop (the newsletter block of 1.6, ps_emailsubscription of
 *   1.7/8, the signup form's checkbox, or a customer's flag changed in the back office) is posted
 *   at once to Sendethic's signed endpoint (same format as the Magento module).
 * - Guest subscribers (no customer account) live in the newsletter module's table, which the
 *   webservice does not expose: this module mirrors them into its own table and exposes it as
 *   the `sendethic_subscribers` resource (give the webservice key GET on it).
 *
 * Settings (Modules › Sendethic › Configure): the endpoint URL and the secret shown on the
 * connection's page in Sendethic.
 */
if (!defined('_PS_VERSION_')) {
    exit;
}

require_once dirname(__FILE__) . '/classes/SendethicSignedRequest.php';
require_once dirname(__FILE__) . '/classes/SendethicGuestSubscriber.php';

class Sendethic extends Module
{
    const CONFIG_URL = 'SENDETHIC_ENDPOINT_URL';
    const CONFIG_SECRET = 'SENDETHIC_SECRET';

    public function __construct()
    {
        $this->name = 'sendethic';
        $this->tab = 'emailing';
        $this->version = '1.0.0';
        $this->author = 'Sendethic';
        $this->need_instance = 0;
        $this->ps_versions_compliancy = array('min' => '1.6.0.9', 'max' => _PS_VERSION_);
        $this->bootstrap = true;
        parent::__construct();
        $this->displayName = $this->l('Sendethic');
        $this->description = $this->l('Sends newsletter subscriptions to Sendethic as they happen.');
    }

    public function install()
    {
        return parent::install()
            && $this->createTable()
            && $this->copyExistingSubscribers()
            && $this->registerHook('actionNewsletterRegistrationAfter')
            && $this->registerHook('actionCustomerAccountAdd')
            && $this->registerHook('actionObjectCustomerUpdateAfter')
            && $this->registerHook('addWebserviceResources')
            && $this->registerHook('actionObjectSendethicGuestSubscriberUpdateAfter');
    }

    public function uninstall()
    {
        Configuration::deleteByName(self::CONFIG_URL);
        Configuration::deleteByName(self::CONFIG_SECRET);
        Db::getInstance()->execute('DROP TABLE IF EXISTS `' . _DB_PREFIX_ . 'sendethic_guest_subscriber`');
        return parent::uninstall();
    }

    private function createTable()
    {
        return Db::getInstance()->execute(
            'CREATE TABLE IF NOT EXISTS `' . _DB_PREFIX_ . 'sendethic_guest_subscriber` (
                `id_sendethic_guest_subscriber` INT UNSIGNED NOT NULL AUTO_INCREMENT,
                `id_shop` INT UNSIGNED NOT NULL DEFAULT 1,
                `email` VARCHAR(255) NOT NULL,
                `active` TINYINT(1) NOT NULL DEFAULT 1,
                `newsletter_date_add` DATETIME NULL,
                `ip_registration_newsletter` VARCHAR(45) NULL,
                `date_add` DATETIME NOT NULL,
                `date_upd` DATETIME NOT NULL,
                PRIMARY KEY (`id_sendethic_guest_subscriber`),
                UNIQUE KEY `email_shop` (`email`, `id_shop`),
                KEY `date_upd` (`date_upd`)
            ) ENGINE=' . _MYSQL_ENGINE_ . ' DEFAULT CHARSET=utf8mb4'
        );
    }

    /**
     * The guests already subscribed: ps_emailsubscription (1.7/8) or ps_newsletter (1.6).
     */
    private function copyExistingSubscribers()
    {
        $db = Db::getInstance();
        foreach (array('emailsubscription', 'newsletter') as $table) {
            $exists = $db->executeS("SHOW TABLES LIKE '" . pSQL(_DB_PREFIX_ . $table) . "'");
            if (!$exists) {
                continue;
            }
            return $db->execute(
                'INSERT IGNORE INTO `' . _DB_PREFIX_ . 'sendethic_guest_subscriber`
                    (`id_shop`, `email`, `active`, `newsletter_date_add`, `ip_registration_newsletter`, `date_add`, `date_upd`)
                 SELECT `id_shop`, `email`, `active`, `newsletter_date_add`, `ip_registration_newsletter`, NOW(), NOW()
                 FROM `' . _DB_PREFIX_ . pSQL($table) . '`'
            );
        }
        return true;
    }

    public function hookAddWebserviceResources($params)
    {
        return array(
            'sendethic_subscribers' => array(
                'description' => 'Sendethic: newsletter subscribers without a customer account',
                'class' => 'SendethicGuestSubscriber',
            ),
        );
    }

    /**
     * Sendethic unsubscribed a guest through the webservice (PUT with active = 0): apply it to
     * the newsletter module's table, which the storefront and the newsletter module read.
     */
    public function hookActionObjectSendethicGuestSubscriberUpdateAfter($params)
    {
        $subscriber = isset($params['object']) ? $params['object'] : null;
        if (!$subscriber instanceof SendethicGuestSubscriber || $subscriber->active) {
            return;
        }
        $db = Db::getInstance();
        $where = "`email` = '" . pSQL($subscriber->email) . "' AND `id_shop` = " . (int) $subscriber->id_shop;
        if ($db->executeS("SHOW TABLES LIKE '" . pSQL(_DB_PREFIX_ . 'emailsubscription') . "'")) {
            // ps_emailsubscription deletes the row when someone unsubscribes.
            $db->delete('emailsubscription', $where);
        } elseif ($db->executeS("SHOW TABLES LIKE '" . pSQL(_DB_PREFIX_ . 'newsletter') . "'")) {
            $db->update('newsletter', array('active' => 0), $where);
        }
    }

    /**
     * ps_emailsubscription / blocknewsletter, after the storefront block's form: `action` 0 is a
     * subscription, 1 an unsubscription. A guest's unsubscription is kept (active = 0) so that
     * the next sync unsubscribes the address in Sendethic too; a subscription is posted at once.
     */
    public function hookActionNewsletterRegistrationAfter($params)
    {
        if (!empty($params['error']) || empty($params['email'])) {
            return;
        }
        $email = (string) $params['email'];
        $shopId = (int) $this->context->shop->id;
        $ip = Tools::getRemoteAddr();
        $subscribing = !isset($params['action']) || (int) $params['action'] === 0;
        if (!Customer::customerExists($email)) {
            SendethicGuestSubscriber::record($email, $shopId, $subscribing, $ip);
        }
        if ($subscribing) {
            $this->post($email, $shopId, '', '', $ip);
        }
    }

    /**
     * The signup form's newsletter checkbox.
     */
    public function hookActionCustomerAccountAdd($params)
    {
        $customer = isset($params['newCustomer']) ? $params['newCustomer'] : null;
        if ($customer instanceof Customer && $customer->newsletter) {
            $this->post($customer->email, (int) $customer->id_shop, $customer->firstname, $customer->lastname, Tools::getRemoteAddr());
        }
    }

    /**
     * A customer's flag turned on (account page, back office). Turning it off is read by the
     * next sync, which takes the unsubscription from the shop's flag.
     */
    public function hookActionObjectCustomerUpdateAfter($params)
    {
        $customer = isset($params['object']) ? $params['object'] : null;
        if (!$customer instanceof Customer || !$customer->newsletter) {
            return;
        }
        $addedAt = strtotime((string) $customer->newsletter_date_add);
        if ($addedAt && time() - $addedAt < 60) {
            $this->post($customer->email, (int) $customer->id_shop, $customer->firstname, $customer->lastname, (string) $customer->ip_registration_newsletter);
        }
    }

    private function post($email, $shopId, $firstname, $lastname, $ip)
    {
        $url = (string) Configuration::get(self::CONFIG_URL);
        $secret = (string) Configuration::get(self::CONFIG_SECRET);
        if ($url === '' || $secret === '') {
            return 0;
        }
        $request = new SendethicSignedRequest(
            SendethicSignedRequest::payload($email, $shopId, (string) $firstname, (string) $lastname, (string) $ip),
            $secret
        );
        return $request->send($url);
    }

    public function getContent()
    {
        $output = '';
        if (Tools::isSubmit('submitSendethic')) {
            $url = trim((string) Tools::getValue(self::CONFIG_URL));
            if ($url !== '' && !Validate::isAbsoluteUrl($url)) {
                $output .= $this->displayError($this->l('The endpoint URL is not valid.'));
            } else {
                Configuration::updateValue(self::CONFIG_URL, $url);
                $secret = trim((string) Tools::getValue(self::CONFIG_SECRET));
                if ($secret !== '') {
                    Configuration::updateValue(self::CONFIG_SECRET, $secret);
                }
                $output .= $this->displayConfirmation($this->l('Settings saved.'));
            }
        }
        return $output . $this->renderForm();
    }

    private function renderForm()
    {
        $helper = new HelperForm();
        $helper->module = $this;
        $helper->name_controller = $this->name;
        $helper->token = Tools::getAdminTokenLite('AdminModules');
        $helper->currentIndex = AdminController::$currentIndex . '&configure=' . $this->name;
        $helper->submit_action = 'submitSendethic';
        $helper->fields_value = array(
            self::CONFIG_URL => Configuration::get(self::CONFIG_URL),
            self::CONFIG_SECRET => '',
        );
        $form = array('form' => array(
            'legend' => array('title' => $this->l('Sendethic')),
            'input' => array(
                array('type' => 'text', 'name' => self::CONFIG_URL, 'label' => $this->l('Endpoint URL'), 'required' => true),
                array('type' => 'password', 'name' => self::CONFIG_SECRET, 'label' => $this->l('Secret'), 'desc' => $this->l('Leave empty to keep the stored secret.')),
            ),
            'submit' => array('title' => $this->l('Save')),
        ));
        return $helper->generateForm(array($form));
    }
}
